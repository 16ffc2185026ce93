package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Pagination is keyset-based: NextToken names the sort key of the last item
// returned (plus a digest of the filters it was issued for), so pages stay
// consistent while executions are created or finish between calls.

// defaultPageSize applies when MaxResults is absent (the real default is
// undocumented; 10 is the common SageMaker list default).
const defaultPageSize = 10

type pageToken struct {
	After  string `json:"a"`
	Filter string `json:"f"`
}

// page returns the items after the token's key, at most max of them, and
// the token for the next page ("" on the last page, so SDK paginators stop).
// items must already be sorted by key in the requested direction.
func page[T any](items []T, key func(T) string, desc bool, token *string, filter string, maxResults *int64) ([]T, string, error) {
	size := defaultPageSize
	if maxResults != nil {
		size = int(*maxResults)
	}
	start := 0
	if token != nil && *token != "" {
		b, err := base64.RawURLEncoding.DecodeString(*token)
		var t pageToken
		if err == nil {
			err = json.Unmarshal(b, &t)
		}
		if err != nil || t.Filter != filter {
			return nil, "", errValidation("Invalid NextToken: it was not issued for this request")
		}
		start = len(items)
		for i, it := range items {
			c := strings.Compare(key(it), t.After)
			if (!desc && c > 0) || (desc && c < 0) {
				start = i
				break
			}
		}
	}
	end := min(start+size, len(items))
	out := items[start:end]
	if end == len(items) {
		return out, "", nil
	}
	b, _ := json.Marshal(pageToken{After: key(items[end-1]), Filter: filter})
	return out, base64.RawURLEncoding.EncodeToString(b), nil
}

// sortItems sorts by key, descending when desc.
func sortItems[T any](items []T, key func(T) string, desc bool) {
	slices.SortFunc(items, func(a, b T) int {
		c := strings.Compare(key(a), key(b))
		if desc {
			return -c
		}
		return c
	})
}

// timeKey makes a time sort as a string; the suffix breaks ties.
func timeKey(t time.Time, tie string) string {
	return fmt.Sprintf("%020d|%s", t.UnixNano(), tie)
}

// descending reads SortOrder; the default (undocumented) is Descending,
// newest first, as SageMaker's other lists.
func descending(sortOrder *string) bool {
	return sortOrder == nil || *sortOrder == "Descending"
}

// createdBetween applies CreatedAfter/CreatedBefore, both exclusive (the
// inclusivity is undocumented).
func createdBetween(t time.Time, after, before *epochTime) bool {
	if after != nil && !t.After(time.Time(*after)) {
		return false
	}
	if before != nil && !t.Before(time.Time(*before)) {
		return false
	}
	return true
}

func filterDigest(parts ...any) string {
	b, _ := json.Marshal(parts)
	return string(b)
}
