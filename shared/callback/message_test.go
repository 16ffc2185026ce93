package callback_test

import (
	"strings"
	"testing"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

const arn = "arn:aws:sagemaker:us-east-2:012345678901:pipeline/callback-pipeline/execution/7pinimwddh3a"

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus callback.Status
		wantArgs   int
	}{
		{"documented Stopping example", `{"token": "26vcYbeWsZ", "pipelineExecutionArn": "` + arn + `", "arguments": {"number": 5, "stringArg": "some-arg"}, "status": "Stopping"}`, callback.StatusStopping, 2},
		{"Status key as the API reference spells it", `{"token":"26vcYbeWsZ","pipelineExecutionArn":"` + arn + `","arguments":{},"Status":"Stopping"}`, callback.StatusStopping, 0},
		{"every key in another case", `{"TOKEN":"26vcYbeWsZ","PipelineExecutionArn":"` + arn + `","Arguments":{"a":"b"},"STATUS":"executing"}`, callback.StatusExecuting, 1},
		{"start message without a status", `{"token":"26vcYbeWsZ","pipelineExecutionArn":"` + arn + `","arguments":{"a":1}}`, callback.StatusExecuting, 1},
		{"null status and arguments", `{"token":"26vcYbeWsZ","pipelineExecutionArn":"` + arn + `","arguments":null,"status":null}`, callback.StatusExecuting, 0},
		{"no arguments", `{"token":"26vcYbeWsZ","pipelineExecutionArn":"` + arn + `","status":"Executing"}`, callback.StatusExecuting, 0},
		{"unknown key ignored", `{"token":"26vcYbeWsZ","pipelineExecutionArn":"` + arn + `","status":"Stopping","newField":{"x":1}}`, callback.StatusStopping, 0},
		{"surrounding whitespace", " \n{\"token\":\"26vcYbeWsZ\",\"pipelineExecutionArn\":\"" + arn + "\"}\n ", callback.StatusExecuting, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := callback.Parse(tt.body)
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.body, err)
			}
			if m.Token != "26vcYbeWsZ" || m.ExecutionARN.String() != arn || m.Status != tt.wantStatus || len(m.Arguments) != tt.wantArgs {
				t.Fatalf("Parse(%s) = %+v, want status %s and %d arguments", tt.body, m, tt.wantStatus, tt.wantArgs)
			}
		})
	}
}

// TestParseRejects is the bad-input table: every case is refused with an
// EInvalid error whose message, the reason recorded with the rejection,
// says what was wrong.
func TestParseRejects(t *testing.T) {
	ok := `"pipelineExecutionArn":"` + arn + `"`
	tests := []struct {
		name, body, wantReason string
	}{
		{"empty body", ``, "not a JSON object"},
		{"not JSON", `hello`, "not a JSON object"},
		{"JSON array", `[1,2]`, "not a JSON object"},
		{"JSON string", `"token"`, "not a JSON object"},
		{"truncated object", `{"token":"26vcYbeWsZ",`, "not valid JSON"},
		{"trailing data", `{"token":"26vcYbeWsZ",` + ok + `} {}`, "data after the JSON object"},
		{"missing token", `{` + ok + `}`, "token is missing"},
		{"token is a number", `{"token":12345,` + ok + `}`, "token is not a string"},
		{"short token", `{"token":"abc",` + ok + `}`, "exactly 10 characters"},
		{"token with punctuation", `{"token":"26vcYbeWs!",` + ok + `}`, "letters and digits"},
		{"missing ARN", `{"token":"26vcYbeWsZ"}`, "pipelineExecutionArn is missing"},
		{"ARN is an object", `{"token":"26vcYbeWsZ","pipelineExecutionArn":{}}`, "pipelineExecutionArn is not a string"},
		{"ARN of another service", `{"token":"26vcYbeWsZ","pipelineExecutionArn":"arn:aws:s3:::bucket"}`, "not a pipeline execution ARN"},
		{"arguments is a list", `{"token":"26vcYbeWsZ",` + ok + `,"arguments":[1]}`, "arguments is not a JSON object"},
		{"arguments is a string", `{"token":"26vcYbeWsZ",` + ok + `,"arguments":"a=b"}`, "arguments is not a JSON object"},
		{"unknown status", `{"token":"26vcYbeWsZ",` + ok + `,"status":"Paused"}`, `status "Paused" is not Executing or Stopping`},
		{"status is a number", `{"token":"26vcYbeWsZ",` + ok + `,"status":1}`, "status is not a string"},
		{"status given twice in two spellings", `{"token":"26vcYbeWsZ",` + ok + `,"status":"Stopping","Status":"Executing"}`, `key "Status" appears more than once`},
		{"token given twice", `{"token":"26vcYbeWsZ","token":"AAAAAAAAAA",` + ok + `}`, `key "token" appears more than once`},
		{"invalid UTF-8", "{\"token\":\"26vcYbeWsZ\xff\"}", "not valid UTF-8"},
		{"too large", `{"token":"` + strings.Repeat("a", callback.MaxBodyBytes) + `"}`, "more than SQS allows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := callback.Parse(tt.body)
			if err == nil {
				t.Fatalf("Parse(%.80q) = %+v, want a rejection", tt.body, m)
			}
			if pipeline.Code(err) != pipeline.EInvalid {
				t.Fatalf("Parse(%.80q) code %q, want invalid (err %v)", tt.body, pipeline.Code(err), err)
			}
			if reason := pipeline.Message(err); !strings.Contains(reason, tt.wantReason) {
				t.Fatalf("Parse(%.80q) reason %q, want it to say %q", tt.body, reason, tt.wantReason)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"token":"26vcYbeWsZ","pipelineExecutionArn":"` + arn + `","arguments":{"a":1},"status":"Stopping"}`,
		`{"TOKEN":"26vcYbeWsZ","PIPELINEEXECUTIONARN":"` + arn + `"}`,
		`{"status":"Stopping","Status":"Stopping"}`,
		`{}`, `[]`, `null`, ``, `{"token":`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m, err := callback.Parse(body)
		if err != nil {
			if pipeline.Code(err) != pipeline.EInvalid || pipeline.Message(err) == "" {
				t.Fatalf("Parse(%q): %v, want an invalid error with a reason", body, err)
			}
			return
		}
		// What is accepted is usable: a valid token, a valid ARN, a known status.
		if pipeline.ValidateCallbackToken(m.Token) != nil {
			t.Fatalf("Parse(%q) accepted token %q", body, m.Token)
		}
		if _, err := pipeline.ParseExecutionARN(m.ExecutionARN.String()); err != nil {
			t.Fatalf("Parse(%q) accepted ARN %v: %v", body, m.ExecutionARN, err)
		}
		if m.Status != callback.StatusExecuting && m.Status != callback.StatusStopping {
			t.Fatalf("Parse(%q) accepted status %q", body, m.Status)
		}
	})
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("é", pipeline.MaxExcerptBytes) // 2 bytes each
	got := pipeline.Excerpt(long)
	if len(got) > pipeline.MaxExcerptBytes || !strings.HasPrefix(long, got) || strings.ToValidUTF8(got, "?") != got {
		t.Fatalf("Excerpt gave %d bytes, valid=%v", len(got), strings.ToValidUTF8(got, "?") == got)
	}
	if pipeline.Excerpt("short") != "short" {
		t.Fatal("short body changed")
	}
}
