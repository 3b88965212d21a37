package tdb_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	tdbv1 "github.com/tdb-dev/tdb/clients/go/gen/tdb/v1"
	"github.com/tdb-dev/tdb/clients/go/tdb"
)

// Uploads a day of hourly forecast values as one run over gRPC (h2c), then reads every
// vintage back. Compiled by go test; not run (it needs a server and a key).
func Example() {
	ctx := context.Background()
	c := tdb.New("http://127.0.0.1:8080", "tdbk_…") // or tdb.WithProtocol(tdb.Connect)

	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := tdb.Points{Name: "temperature_a", Labels: map[string]string{"site": "a"}}
	for h := range 24 {
		p.ValidTimes = append(p.ValidTimes, t0.Add(time.Duration(h)*time.Hour))
		p.Values = append(p.Values, 10+float64(h)/2)
	}
	run, err := c.Upload(ctx, &tdbv1.RunHeader{
		KnownTime:           timestamppb.New(t0),
		CreateMissingSeries: true,
		NewSeriesKind:       tdbv1.SeriesKind_SERIES_KIND_FORECAST,
	}, p)
	if connect.CodeOf(err) == connect.CodePermissionDenied {
		log.Fatal("this key may not upload")
	} else if err != nil {
		log.Fatal(err)
	}

	series, err := c.Read(ctx, &tdbv1.ReadValuesRequest{
		Name: "temperature_a", Mode: tdbv1.ReadMode_READ_MODE_ALL_VINTAGES,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range series {
		fmt.Println(s.SeriesID, len(s.Values), s.RunIDs[0] == run.GetRunId())
	}
}
