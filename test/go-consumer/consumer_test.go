// Package consumer_test is a module of its own outside clients/go, as a user's program is:
// it imports the client by its module path (resolved through a replace) and round-trips
// against a live server.
package consumer_test

import (
	"context"
	"testing"
	"time"

	tdbv1 "github.com/tdb-dev/tdb/clients/go/gen/tdb/v1"
	"github.com/tdb-dev/tdb/clients/go/tdb"
)

func TestConsumerModuleRoundTrips(t *testing.T) {
	ctx := context.Background()
	c := tdb.New(live.URL, live.AdminKey)
	name := "consumer_" + time.Now().Format("150405.000000")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := tdb.Points{Name: name, Labels: map[string]string{"from": "consumer"}}
	for i := 0; i < 24; i++ {
		p.ValidTimes = append(p.ValidTimes, start.Add(time.Duration(i)*time.Hour))
		p.Values = append(p.Values, float64(i))
	}
	res, err := c.Upload(ctx, &tdbv1.RunHeader{CreateMissingSeries: true}, p)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if res.GetPointCount() != 24 {
		t.Fatalf("Upload stored %d points, want 24", res.GetPointCount())
	}
	got, err := c.Read(ctx, &tdbv1.ReadValuesRequest{Name: name})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != 1 || got[0].Name != name || len(got[0].Values) != 24 || got[0].Values[23] != 23 {
		t.Fatalf("Read returned %+v, want the 24 points of %s", got, name)
	}
}
