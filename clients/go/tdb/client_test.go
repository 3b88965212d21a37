package tdb_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	tdbv1 "github.com/tdb-dev/tdb/clients/go/gen/tdb/v1"
	"github.com/tdb-dev/tdb/clients/go/tdb"
)

const n = 10_000

var protocols = []tdb.Protocol{tdb.GRPC, tdb.Connect}

// seen records the protocol of every response, to prove which protocol a test spoke.
type seen struct {
	mu        sync.Mutex
	protocols map[string]bool
}

func (s *seen) interceptor() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			s.mu.Lock()
			s.protocols[req.Peer().Protocol] = true
			s.mu.Unlock()
			return next(ctx, req)
		}
	})
}

func unique(prefix string) string { return fmt.Sprintf("%s_%08x", prefix, rand.Uint32()) }

// points makes n values every 15 minutes from 2026-01-01 UTC, with a null every 997.
func points(name string, n int) tdb.Points {
	p := tdb.Points{Name: name, ValidTimes: make([]time.Time, n), Values: make([]float64, n)}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		p.ValidTimes[i] = t0.Add(time.Duration(i) * 15 * time.Minute)
		p.Values[i] = 20 + 5*math.Sin(float64(i)/10) + float64(i)/1e4
		if i%997 == 0 {
			p.Values[i] = math.NaN()
		}
	}
	return p
}

func sameValues(t *testing.T, got, want tdb.Points) {
	t.Helper()
	if len(got.ValidTimes) != len(want.ValidTimes) {
		t.Fatalf("read %d points, uploaded %d", len(got.ValidTimes), len(want.ValidTimes))
	}
	for i := range want.ValidTimes {
		if !got.ValidTimes[i].Equal(want.ValidTimes[i]) {
			t.Fatalf("point %d: valid time %v, want %v", i, got.ValidTimes[i], want.ValidTimes[i])
		}
		g, w := got.Values[i], want.Values[i]
		if math.IsNaN(w) != math.IsNaN(g) || (!math.IsNaN(w) && g != w) || got.Nulls[i] != math.IsNaN(w) {
			t.Fatalf("point %d: value %v (null %v), want %v", i, g, got.Nulls[i], w)
		}
	}
}

func TestUploadsAndReadsBack10000Points(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.String(), func(t *testing.T) {
			ctx := context.Background()
			rec := &seen{protocols: map[string]bool{}}
			c := tdb.New(live.URL, live.AdminKey, tdb.WithProtocol(protocol),
				tdb.WithClientOptions(connect.WithInterceptors(rec.interceptor())))

			name := unique("go_roundtrip_" + protocol.String())
			created, err := c.TimeSeries.CreateSeries(ctx, connect.NewRequest(&tdbv1.CreateSeriesRequest{
				Name: name, Labels: map[string]string{"lang": "go"}, Kind: tdbv1.SeriesKind_SERIES_KIND_FORECAST,
			}))
			if err != nil {
				t.Fatalf("CreateSeries: %v", err)
			}
			id := created.Msg.GetSeries().GetSeriesId()
			if !rec.protocols[protocol.String()] || len(rec.protocols) != 1 {
				t.Fatalf("spoke %v, want only %s", rec.protocols, protocol)
			}

			want := points("", n)
			want.SeriesID = id
			known := time.Date(2026, 1, 1, 6, 0, 0, 123456000, time.UTC)
			res, err := c.Upload(ctx, &tdbv1.RunHeader{KnownTime: timestamppb.New(known), WorkflowId: name}, want)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if res.GetPointCount() != n {
				t.Fatalf("Upload stored %d points, want %d", res.GetPointCount(), n)
			}

			latest, err := c.Read(ctx, &tdbv1.ReadValuesRequest{SeriesIds: []string{id}, Mode: tdbv1.ReadMode_READ_MODE_LATEST})
			if err != nil {
				t.Fatalf("Read LATEST: %v", err)
			}
			if len(latest) != 1 || latest[0].SeriesID != id {
				t.Fatalf("Read LATEST returned %d series", len(latest))
			}
			// The stream names the series: Name and Labels filled without a GetSeries.
			if latest[0].Name != name || latest[0].Labels["lang"] != "go" {
				t.Fatalf("Read named the series %q %v, want %q {lang: go}", latest[0].Name, latest[0].Labels, name)
			}
			sameValues(t, latest[0], want)

			lean, err := c.Read(ctx, &tdbv1.ReadValuesRequest{SeriesIds: []string{id}, ValuesOnly: true})
			if err != nil {
				t.Fatalf("Read LATEST values_only: %v", err)
			}
			if len(lean) != 1 || len(lean[0].KnownTimes) != 0 || len(lean[0].RunIDs) != 0 {
				t.Fatalf("Read values_only returned %d series with known times or run ids", len(lean))
			}
			sameValues(t, lean[0], want)

			vintages, err := c.Read(ctx, &tdbv1.ReadValuesRequest{
				Name: name, Labels: map[string]string{"lang": "go"}, Mode: tdbv1.ReadMode_READ_MODE_ALL_VINTAGES,
			})
			if err != nil {
				t.Fatalf("Read ALL_VINTAGES: %v", err)
			}
			if len(vintages) != 1 {
				t.Fatalf("Read ALL_VINTAGES returned %d series", len(vintages))
			}
			sameValues(t, vintages[0], want)
			for i := range vintages[0].KnownTimes {
				if !vintages[0].KnownTimes[i].Equal(known) || vintages[0].RunIDs[i] != res.GetRunId() {
					t.Fatalf("point %d: known %v run %s, want %v %s", i,
						vintages[0].KnownTimes[i], vintages[0].RunIDs[i], known, res.GetRunId())
				}
			}
			if len(vintages[0].KnownTimes) != n {
				t.Fatalf("ALL_VINTAGES carried %d known times", len(vintages[0].KnownTimes))
			}
		})
	}
}

func TestUploadCreatesMissingSeriesByName(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(protocol.String(), func(t *testing.T) {
			ctx := context.Background()
			c := tdb.New(live.URL, live.AdminKey, tdb.WithProtocol(protocol))
			c.ChunkSize = 7 // many messages in one client stream
			name := unique("go_by_name")
			p := points(name, 100)
			p.Labels = map[string]string{"site": "b"}
			res, err := c.Upload(ctx, nil, p)
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			id := res.GetSeriesIds()[name+`{site="b"}`]
			if id == "" {
				t.Fatalf("no series id for the new series in %v", res.GetSeriesIds())
			}
			got, err := c.Read(ctx, &tdbv1.ReadValuesRequest{SeriesIds: []string{id}})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			sameValues(t, got[0], p)
		})
	}
}

func TestErrorsCarryTheirCode(t *testing.T) {
	ctx := context.Background()
	for _, protocol := range protocols {
		t.Run(protocol.String()+"/no key", func(t *testing.T) {
			c := tdb.New(live.URL, "", tdb.WithProtocol(protocol))
			_, err := c.TimeSeries.ListSeries(ctx, connect.NewRequest(&tdbv1.ListSeriesRequest{}))
			if connect.CodeOf(err) != connect.CodeUnauthenticated {
				t.Fatalf("got %v, want unauthenticated", err)
			}
		})
		t.Run(protocol.String()+"/bad key on a stream", func(t *testing.T) {
			c := tdb.New(live.URL, "tdbk_not_a_real_key", tdb.WithProtocol(protocol))
			_, err := c.Read(ctx, &tdbv1.ReadValuesRequest{Name: "x"})
			if connect.CodeOf(err) != connect.CodeUnauthenticated {
				t.Fatalf("got %v, want unauthenticated", err)
			}
		})
		t.Run(protocol.String()+"/read-only key uploading", func(t *testing.T) {
			if live.ReadKey == "" {
				t.Skip("no read-only key (TDB_TEST_READ_KEY) for this server")
			}
			c := tdb.New(live.URL, live.ReadKey, tdb.WithProtocol(protocol))
			_, err := c.Upload(ctx, nil, points(unique("go_denied"), 5))
			var cerr *connect.Error
			if !errors.As(err, &cerr) || cerr.Code() != connect.CodePermissionDenied {
				t.Fatalf("got %v, want permission_denied", err)
			}
		})
		t.Run(protocol.String()+"/bad input", func(t *testing.T) {
			c := tdb.New(live.URL, live.AdminKey, tdb.WithProtocol(protocol))
			p := points(unique("go_bad"), 5)
			p.Values[2] = math.Inf(1)
			_, err := c.Upload(ctx, nil, p)
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Fatalf("got %v, want invalid_argument", err)
			}
		})
	}
}
