package doctor

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The behaviours the doctor observes, in the order of the emulator
// README's open questions.
const (
	behStoppingToken    = "Stopping message's callback token (#1)"
	behStatusKey        = "status member's key in callback messages (#2)"
	behStartStatus      = "start message carries a status (#2)"
	behStoppingSent     = "a Stopping message is sent for a running callback step"
	behAnswerReplay     = "answering again with the same ClientRequestToken (#3, #7)"
	behAnswerAgain      = "answering an answered token with a new request (#3)"
	behAnswerStartToken = "answering the start token after the Stopping token (#1, #3)"
	behUnknownToken     = "answering an unknown token (#4)"
	behStopStopping     = "StopPipelineExecution on a Stopping execution (#5)"
	behStopTerminal     = "StopPipelineExecution on an ended execution (#5)"
	behFinalStatus      = "after the Stopping callback is answered with a failure (#6, #11)"
	behLambdaDuringStop = "Lambda step status while the execution is Stopping (#11)"
	behLambdaTimeout    = "definition-level Lambda Timeout (shorter than the function runs)"
	behRetrySteps       = "steps RetryPipelineExecution runs again (#15)"
	behRetryToken       = "token of a retried callback step (#16)"
	behRetryListing     = "steps listed after a retry (#17)"
	behVersion          = "UpdatePipeline without a new definition records a version (#18)"
)

// Finding is one behaviour, what the service did, and the emulator
// setting that does the same.
type Finding struct {
	Behaviour string `json:"behaviour"`
	Observed  string `json:"observed"`
	// Emulator is the matching switch ("-new-stopping-token=true"), or for
	// behaviours without a switch what the emulator does and whether it
	// matches.
	Emulator string `json:"emulator"`
	// Differs is true when no emulator setting does what was observed.
	Differs bool `json:"differs"`
}

// Report is what a run found, created and deleted.
type Report struct {
	Findings      []Finding `json:"findings"`
	Created       []string  `json:"created"`
	Deleted       []string  `json:"deleted"`
	CleanupErrors []error   `json:"-"`
}

// Find returns the finding for a behaviour.
func (r *Report) Find(behaviour string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Behaviour == behaviour {
			return f, true
		}
	}
	return Finding{}, false
}

// find records a behaviour an emulator switch models.
func (r *run) find(behaviour, observed, emulatorSwitch string) {
	r.report.Findings = append(r.report.Findings, Finding{Behaviour: behaviour, Observed: observed, Emulator: emulatorSwitch,
		Differs: strings.HasPrefix(emulatorSwitch, "none")})
}

// fixed records a behaviour the emulator models one way only.
func (r *run) fixed(behaviour, observed, emulatorDoes string) {
	r.findFixed(behaviour, observed, observed == emulatorDoes, emulatorDoes)
}

func (r *run) findFixed(behaviour, observed string, same bool, emulatorDoes string) {
	f := Finding{Behaviour: behaviour, Observed: observed}
	if same {
		f.Emulator = "same (no switch)"
	} else {
		f.Emulator = "differs: the emulator gives " + emulatorDoes + " (no switch)"
		f.Differs = true
	}
	r.report.Findings = append(r.report.Findings, f)
}

// Print writes the findings as a table.
func (r *Report) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BEHAVIOUR\tOBSERVED\tEMULATOR")
	for _, f := range r.Findings {
		emu := f.Emulator
		if emu == "" {
			emu = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Behaviour, f.Observed, emu)
	}
	return tw.Flush()
}
