package stopcoord

import (
	"strings"
	"testing"
)

func TestStackPropsFromContext(t *testing.T) {
	tests := []struct {
		name        string
		context     map[string]any
		wantProtect bool
		wantErr     string
	}{
		{name: "unset keeps the ledger protected", context: map[string]any{}, wantProtect: true},
		{name: "cdk.json true", context: map[string]any{contextLedgerDeletionProtection: true}, wantProtect: true},
		{name: "cdk.json false", context: map[string]any{contextLedgerDeletionProtection: false}, wantProtect: false},
		{name: "command line false", context: map[string]any{contextLedgerDeletionProtection: "false"}, wantProtect: false},
		{name: "command line true", context: map[string]any{contextLedgerDeletionProtection: "true"}, wantProtect: true},
		{name: "not a boolean", context: map[string]any{contextLedgerDeletionProtection: "yes please"}, wantErr: `want true or false, got "yes please"`},
		{name: "a number", context: map[string]any{contextLedgerDeletionProtection: 1.0}, wantErr: "want true or false, got 1 (float64)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(key *string) any { return tt.context[*key] }
			props, err := PropsFromContext(lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("context %v: err = %v, want one containing %q", tt.context, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("context %v: unexpected error %v", tt.context, err)
			}
			if props.LedgerDeletionProtection != tt.wantProtect {
				t.Errorf("context %v: LedgerDeletionProtection = %v, want %v", tt.context, props.LedgerDeletionProtection, tt.wantProtect)
			}
		})
	}
}
