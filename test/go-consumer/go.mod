module example.com/tdb-consumer

go 1.26.0

require github.com/tdb-dev/tdb/clients/go v0.0.0

require (
	connectrpc.com/connect v1.21.1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

// A user's module would require a published version; here the client comes from the checkout.
replace github.com/tdb-dev/tdb/clients/go => ../../clients/go
