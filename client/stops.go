package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ListOpenStopsInput asks for the stops still open, oldest first.
type ListOpenStopsInput struct {
	// OpenLongerThan lists only stops requested at least this long ago;
	// zero lists every open stop. Whole milliseconds, at most 720h.
	OpenLongerThan time.Duration
	Limit          int    // stops per page, 1 to 50; 0 is the API's default (20)
	Cursor         string // the previous page's Cursor
}

// ListOpenStopsOutput is one page of open stops.
type ListOpenStopsOutput struct {
	AsOf           time.Time  `json:"asOf"`           // when the threshold was measured from
	OpenLongerThan string     `json:"openLongerThan"` // the threshold applied
	Stops          []OpenStop `json:"stops"`
	Cursor         string     `json:"cursor,omitempty"` // empty on the last page
}

// OpenStop is a stop not closed yet, with what still blocks it.
type OpenStop struct {
	Stop           Stop               `json:"stop"`
	Trigger        string             `json:"trigger"` // api, bulk, event, fail-fast, max-runtime
	OpenForSeconds int64              `json:"openForSeconds"`
	Execution      *OpenStopExecution `json:"execution,omitempty"`
	// ViewError says why the execution could not be read, when Execution
	// is nil.
	ViewError string `json:"viewError,omitempty"`
}

// OpenFor is how long the stop had been open when it was listed.
func (s OpenStop) OpenFor() time.Duration { return time.Duration(s.OpenForSeconds) * time.Second }

// OpenStopExecution is where an open stop's execution is.
type OpenStopExecution struct {
	ExecutionARN string   `json:"executionArn"`
	PipelineName string   `json:"pipelineName"`
	Status       string   `json:"status"`
	Terminal     bool     `json:"terminal"`
	Source       string   `json:"source"`
	Blocking     Blocking `json:"blocking"`
}

// ListOpenStops is GET /stops: one page of the stops still open.
func (c *Client) ListOpenStops(ctx context.Context, in *ListOpenStopsInput) (*ListOpenStopsOutput, error) {
	if in.OpenLongerThan < 0 {
		return nil, errors.New("list open stops: the threshold is negative")
	}
	q := url.Values{}
	if in.OpenLongerThan > 0 {
		q.Set("openLongerThan", in.OpenLongerThan.Truncate(time.Millisecond).String())
	}
	if in.Limit != 0 {
		q.Set("limit", strconv.Itoa(in.Limit))
	}
	if in.Cursor != "" {
		q.Set("cursor", in.Cursor)
	}
	var out ListOpenStopsOutput
	if _, err := c.do(ctx, "list open stops", request{method: http.MethodGet, segments: []string{"stops"}, query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListOpenStopsPaginator pages through ListOpenStops, in the manner of the
// SDK's paginators.
type ListOpenStopsPaginator struct {
	client    *Client
	in        ListOpenStopsInput
	firstPage bool
}

// NewListOpenStopsPaginator returns a paginator over the open stops in
// asks for.
func NewListOpenStopsPaginator(c *Client, in *ListOpenStopsInput) *ListOpenStopsPaginator {
	return &ListOpenStopsPaginator{client: c, in: *in, firstPage: true}
}

// HasMorePages reports whether NextPage has another page to give.
func (p *ListOpenStopsPaginator) HasMorePages() bool { return p.firstPage || p.in.Cursor != "" }

// NextPage reads the next page.
func (p *ListOpenStopsPaginator) NextPage(ctx context.Context) (*ListOpenStopsOutput, error) {
	if !p.HasMorePages() {
		return nil, errors.New("list open stops: no more pages")
	}
	out, err := p.client.ListOpenStops(ctx, &p.in)
	if err != nil {
		return nil, err
	}
	p.firstPage = false
	p.in.Cursor = out.Cursor
	return out, nil
}
