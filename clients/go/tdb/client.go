// Package tdb is a small helper over the generated Connect-Go stubs of TDB
// (github.com/tdb-dev/tdb/clients/go/gen/tdb/v1/tdbv1connect): a client that speaks gRPC
// (HTTP/2, cleartext h2c for http:// URLs), the Connect protocol or gRPC-Web, sends the API
// key on every call, and uploads from and reads into plain Go slices.
//
// Errors are *connect.Error values; connect.CodeOf(err) gives the code
// (connect.CodeUnauthenticated, connect.CodePermissionDenied, ...).
package tdb

import (
	"net/http"

	"connectrpc.com/connect"

	"github.com/tdb-dev/tdb/clients/go/gen/tdb/v1/tdbv1connect"
)

// Protocol is the wire protocol a Client speaks. TDB serves all three on one port.
type Protocol int

const (
	// GRPC is gRPC over HTTP/2: h2c (prior knowledge) for http:// URLs, TLS h2 for https://.
	GRPC Protocol = iota
	// Connect is the Connect protocol (binary Protobuf), over HTTP/1.1 for http:// URLs.
	Connect
	// GRPCWeb is gRPC-Web, over HTTP/1.1 for http:// URLs.
	GRPCWeb
)

// String names the protocol as connect.Peer.Protocol does.
func (p Protocol) String() string {
	switch p {
	case Connect:
		return connect.ProtocolConnect
	case GRPCWeb:
		return connect.ProtocolGRPCWeb
	default:
		return connect.ProtocolGRPC
	}
}

// Client holds the generated service clients, configured with the API key and protocol.
// Use the service clients directly for anything the helpers do not cover.
type Client struct {
	TimeSeries tdbv1connect.TimeSeriesServiceClient
	KeyAdmin   tdbv1connect.KeyAdminServiceClient
	// ChunkSize is how many points Upload puts in one message (default 10,000).
	ChunkSize int
}

// Option configures New.
type Option func(*options)

type options struct {
	protocol   Protocol
	httpClient connect.HTTPClient
	extra      []connect.ClientOption
}

// WithProtocol chooses the wire protocol (default GRPC).
func WithProtocol(p Protocol) Option { return func(o *options) { o.protocol = p } }

// WithHTTPClient replaces the HTTP client New would pick for the protocol.
func WithHTTPClient(c connect.HTTPClient) Option { return func(o *options) { o.httpClient = c } }

// WithClientOptions adds connect client options (interceptors, compression, limits).
func WithClientOptions(opts ...connect.ClientOption) Option {
	return func(o *options) { o.extra = append(o.extra, opts...) }
}

// New returns a Client of the TDB server at baseURL (http://host:port or https://host:port)
// that authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) *Client {
	o := options{protocol: GRPC}
	for _, opt := range opts {
		opt(&o)
	}
	httpClient := o.httpClient
	if httpClient == nil {
		if o.protocol == GRPC {
			httpClient = NewHTTP2Client()
		} else {
			httpClient = http.DefaultClient
		}
	}
	copts := []connect.ClientOption{connect.WithInterceptors(APIKey(apiKey))}
	switch o.protocol {
	case GRPC:
		copts = append(copts, connect.WithGRPC())
	case GRPCWeb:
		copts = append(copts, connect.WithGRPCWeb())
	}
	copts = append(copts, o.extra...)
	return &Client{
		TimeSeries: tdbv1connect.NewTimeSeriesServiceClient(httpClient, baseURL, copts...),
		KeyAdmin:   tdbv1connect.NewKeyAdminServiceClient(httpClient, baseURL, copts...),
		ChunkSize:  10_000,
	}
}

// NewHTTP2Client returns an HTTP client that speaks only HTTP/2: with prior knowledge over
// cleartext (h2c) for http:// URLs, as gRPC clients do, and via ALPN for https:// URLs.
// Go's net/http does this natively since Go 1.24 (no golang.org/x/net/http2 needed).
func NewHTTP2Client() *http.Client {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	protocols.SetHTTP2(true)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Protocols = &protocols
	return &http.Client{Transport: transport}
}
