package main

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/apigw"
)

// TestListStopsQuery: what GET /stops accepts reaches the coordinator as
// it was meant; anything else is a 400 that never reaches it. Every answer
// is checked against the OpenAPI document.
func TestListStopsQuery(t *testing.T) {
	for _, tc := range []struct {
		query     string
		wantCode  int
		threshold time.Duration
		limit     int
		cursor    string
	}{
		{"", 200, 0, 0, ""},
		{"openLongerThan=15m", 200, 15 * time.Minute, 0, ""},
		{"openLongerThan=1h30m&limit=50&cursor=abc", 200, 90 * time.Minute, 50, "abc"},
		{"openLongerThan=0", 200, 0, 0, ""},
		{"openLongerThan=2d", 400, 0, 0, ""},
		{"openLongerThan=-5m", 400, 0, 0, ""},
		{"openLongerThan=15", 400, 0, 0, ""},
		{"limit=0", 400, 0, 0, ""},
		{"limit=51", 400, 0, 0, ""},
		{"limit=ten", 400, 0, 0, ""},
	} {
		q, _ := url.ParseQuery(tc.query)
		params := map[string]string{}
		for k, v := range q {
			params[k] = v[0]
		}
		ev := apigw.Event(apigw.Request{Method: "GET", RouteKey: routeListStops, Path: "/stops", CallerARN: caller})
		ev.RawQueryString, ev.QueryStringParameters = tc.query, params
		raw, _ := json.Marshal(ev)
		f := &fakeCoordinator{}
		_, resp := invoke(t, &handler{coord: f, maxBodyBytes: DefaultMaxBodyBytes, home: testHome}, raw)
		checkOpenAPI(t, ev, resp)
		if resp.StatusCode != tc.wantCode {
			t.Errorf("?%s: %d %s, want %d", tc.query, resp.StatusCode, resp.Body, tc.wantCode)
			continue
		}
		if tc.wantCode != 200 {
			if f.stuckIn != nil {
				t.Errorf("?%s: a rejected query reached the coordinator", tc.query)
			}
			continue
		}
		if in := f.stuckIn; in.OpenLongerThan != tc.threshold || in.Limit != tc.limit || in.Cursor != tc.cursor {
			t.Errorf("?%s: coordinator got %+v", tc.query, in)
		}
	}
}
