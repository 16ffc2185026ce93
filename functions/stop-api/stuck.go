package main

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/httpapi"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// routeListStops lists the stops still open, oldest first:
// GET /stops?openLongerThan=15m&limit=20&cursor=... (every parameter
// optional). `stopcoord stops --stuck` reads it.
const routeListStops = "GET /stops"

// durationPattern is what openLongerThan accepts: a Go duration in hours,
// minutes and seconds ("15m", "1h30m", "90s"), as the CLI's --older-than
// takes it. Days and negative values are not durations here.
var durationPattern = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(h|m|s|ms))+$|^0$`)

// listStopsResponse is the body of GET /stops.
type listStopsResponse struct {
	AsOf           time.Time  `json:"asOf"`
	OpenLongerThan string     `json:"openLongerThan"`
	Stops          []openStop `json:"stops"`
	Cursor         string     `json:"cursor,omitempty"`
}

// openStop is one open stop with what its execution still waits for.
type openStop struct {
	Stop           stopView           `json:"stop"`
	Trigger        string             `json:"trigger"`
	OpenForSeconds int64              `json:"openForSeconds"`
	Execution      *openStopExecution `json:"execution,omitempty"`
	ViewError      string             `json:"viewError,omitempty"`
}

// openStopExecution is the part of the execution view a listing needs.
type openStopExecution struct {
	ExecutionARN string                   `json:"executionArn"`
	PipelineName string                   `json:"pipelineName"`
	Status       pipeline.ExecutionStatus `json:"status"`
	Terminal     bool                     `json:"terminal"`
	Source       string                   `json:"source"`
	Blocking     coordinator.Blocking     `json:"blocking"`
}

func (h *handler) listStops(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	q := req.QueryStringParameters
	var in coordinator.StuckStopsInput
	if s := q["openLongerThan"]; s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || !durationPattern.MatchString(s) {
			return httpapi.Error(ctx, pipeline.Errorf(pipeline.EInvalid, "openLongerThan %q is not a duration such as 15m, 1h30m or 90s", truncate(s, 40)))
		}
		in.OpenLongerThan = d
	}
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > coordinator.MaxStuckStopsLimit {
			return httpapi.Error(ctx, pipeline.Errorf(pipeline.EInvalid, "limit %q is not a number from 1 to %d", truncate(s, 20), coordinator.MaxStuckStopsLimit))
		}
		in.Limit = n
	}
	in.Cursor = q["cursor"]
	res, err := h.coord.StuckStops(ctx, in)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	out := listStopsResponse{AsOf: res.AsOf, OpenLongerThan: in.OpenLongerThan.String(), Stops: make([]openStop, 0, len(res.Stops)), Cursor: res.Cursor}
	for _, s := range res.Stops {
		o := openStop{Stop: stopJSON(s.Stop), Trigger: coordinator.TriggerOf(s.Stop), OpenForSeconds: int64(s.OpenFor / time.Second), ViewError: s.ViewError}
		if v := s.Execution; v != nil {
			o.Execution = &openStopExecution{ExecutionARN: v.ExecutionARN, PipelineName: v.PipelineName, Status: v.Status, Terminal: v.Terminal, Source: v.Source, Blocking: v.Blocking}
		}
		out.Stops = append(out.Stops, o)
	}
	return httpapi.JSON(http.StatusOK, out)
}
