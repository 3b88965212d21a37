package tdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"connectrpc.com/connect"

	tdbv1 "github.com/tdb-dev/tdb/clients/go/gen/tdb/v1"
)

// Points is the values of one series as parallel slices: the columnar PointChunk in Go
// types. For uploads, name the series by SeriesID or by Name + Labels. A NaN value is sent
// as a null (no value), like Nulls[i] = true; reads return nulls as NaN with Nulls[i] set.
type Points struct {
	SeriesID string
	Name     string
	Labels   map[string]string

	ValidTimes []time.Time
	Values     []float64
	// Nulls is optional on upload; on reads it is set whenever a value is null.
	Nulls []bool

	// Reads only: the known time and run of each value.
	KnownTimes []time.Time
	RunIDs     []string
}

// Micros converts a time to TDB's wire form: microseconds since the Unix epoch (UTC).
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros converts TDB's wire form back to a UTC time.
func FromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Upload stores series as one run (all or nothing) over the client-streaming Upload RPC:
// the header first, then chunks of at most c.ChunkSize points per message. A nil header
// means "now, create missing series".
func (c *Client) Upload(ctx context.Context, header *tdbv1.RunHeader, series ...Points) (*tdbv1.UploadResponse, error) {
	if header == nil {
		header = &tdbv1.RunHeader{CreateMissingSeries: true}
	}
	size := c.ChunkSize
	if size <= 0 {
		size = 10_000
	}
	for i, p := range series {
		if len(p.Values) != len(p.ValidTimes) || (p.Nulls != nil && len(p.Nulls) != len(p.ValidTimes)) {
			return nil, fmt.Errorf("tdb: series[%d]: ValidTimes, Values and Nulls differ in length", i)
		}
	}
	stream := c.TimeSeries.Upload(ctx)
	send := func(m *tdbv1.UploadRequest) error {
		// io.EOF means the server ended the call; the reason comes from CloseAndReceive.
		if err := stream.Send(m); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	if err := send(&tdbv1.UploadRequest{Header: header}); err != nil {
		return nil, err
	}
	for _, p := range series {
		for start := 0; start < len(p.ValidTimes); start += size {
			end := min(start+size, len(p.ValidTimes))
			if err := send(&tdbv1.UploadRequest{Chunks: []*tdbv1.PointChunk{p.chunk(start, end)}}); err != nil {
				return nil, err
			}
		}
	}
	res, err := stream.CloseAndReceive()
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// chunk is points [start, end) as a PointChunk; nulls are sent only when there are any.
func (p Points) chunk(start, end int) *tdbv1.PointChunk {
	n := end - start
	c := &tdbv1.PointChunk{
		Series:     &tdbv1.SeriesRef{SeriesId: p.SeriesID, Name: p.Name, Labels: p.Labels},
		ValidTimes: make([]int64, n),
		Values:     make([]float64, n),
	}
	nulls := make([]bool, n)
	anyNull := false
	for i := range n {
		c.ValidTimes[i] = Micros(p.ValidTimes[start+i])
		v := p.Values[start+i]
		if math.IsNaN(v) || (p.Nulls != nil && p.Nulls[start+i]) {
			nulls[i], anyNull = true, true
			v = 0
		}
		c.Values[i] = v
	}
	if anyNull {
		c.Nulls = nulls
	}
	return c
}

// Read streams ReadValues and gathers the answer per series, in the server's order
// (series, valid time, known time). The request chooses mode and filters.
func (c *Client) Read(ctx context.Context, req *tdbv1.ReadValuesRequest) ([]Points, error) {
	stream, err := c.TimeSeries.ReadValues(ctx, connect.NewRequest(req))
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var out []Points
	for stream.Receive() {
		for _, ch := range stream.Msg().GetChunks() {
			id := ch.GetSeries().GetSeriesId()
			if len(out) == 0 || out[len(out)-1].SeriesID != id {
				// The first chunk of a series names it (name and labels, once per series).
				out = append(out, Points{SeriesID: id, Name: ch.GetSeries().GetName(), Labels: ch.GetSeries().GetLabels()})
			}
			appendChunk(&out[len(out)-1], ch)
		}
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func appendChunk(p *Points, ch *tdbv1.PointChunk) {
	for i, us := range ch.GetValidTimes() {
		v := ch.GetValues()[i]
		null := i < len(ch.GetNulls()) && ch.GetNulls()[i]
		if null {
			v = math.NaN()
		}
		p.ValidTimes = append(p.ValidTimes, FromMicros(us))
		p.Values = append(p.Values, v)
		p.Nulls = append(p.Nulls, null)
		if i < len(ch.GetKnownTimes()) {
			p.KnownTimes = append(p.KnownTimes, FromMicros(ch.GetKnownTimes()[i]))
		}
		if i < len(ch.GetRunIds()) {
			p.RunIDs = append(p.RunIDs, ch.GetRunIds()[i])
		}
	}
}
