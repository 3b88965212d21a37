package tdb

import (
	"context"

	"connectrpc.com/connect"
)

// APIKey returns a client interceptor that sends key as the x-api-key header on every call,
// unary and streaming: TDB authenticates each request by it. Pass it to the generated
// constructors with connect.WithInterceptors when not using [New].
func APIKey(key string) connect.Interceptor {
	return apiKeyInterceptor{key: key}
}

type apiKeyInterceptor struct{ key string }

func (i apiKeyInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient && i.key != "" {
			req.Header().Set("x-api-key", i.key)
		}
		return next(ctx, req)
	}
}

func (i apiKeyInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if i.key != "" {
			conn.RequestHeader().Set("x-api-key", i.key)
		}
		return conn
	}
}

// WrapStreamingHandler leaves servers alone: the interceptor is for clients.
func (i apiKeyInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
