package coordinator

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// ExecutionView is an execution as stopcoord sees it: the ledger merged
// with SageMaker's current answer, and what still blocks a stop.
type ExecutionView struct {
	ExecutionARN  string                   `json:"executionArn"`
	PipelineName  string                   `json:"pipelineName"`
	Status        pipeline.ExecutionStatus `json:"status"`
	Terminal      bool                     `json:"terminal"`
	StartedAt     *time.Time               `json:"startedAt,omitempty"`
	EndedAt       *time.Time               `json:"endedAt,omitempty"`
	FailureReason string                   `json:"failureReason,omitempty"`
	// Source says where the status came from: "ledger", or "sagemaker"
	// when the ledger was behind.
	Source   string                   `json:"source"`
	Steps    []StepView               `json:"steps"`
	Blocking Blocking                 `json:"blocking"`
	Stops    []pipeline.StopRequest   `json:"-"`
	Timeline []pipeline.TimelineEntry `json:"-"`
}

// StepView is one step with its callback token and cleanups.
type StepView struct {
	Name          string              `json:"name"`
	Kind          pipeline.StepKind   `json:"kind,omitempty"`
	Status        pipeline.StepStatus `json:"status"`
	StartedAt     *time.Time          `json:"startedAt,omitempty"`
	EndedAt       *time.Time          `json:"endedAt,omitempty"`
	FailureReason string              `json:"failureReason,omitempty"`
	FunctionARN   string              `json:"functionArn,omitempty"`
	JobARN        string              `json:"jobArn,omitempty"`
	EndsBy        *time.Time          `json:"endsBy,omitempty"` // Lambda steps: start + timeout
	Callback      *CallbackView       `json:"callback,omitempty"`
}

// CallbackView is a callback step's token and what became of it. The
// token itself is never shown: whoever holds it can answer the step.
type CallbackView struct {
	TokenRef   string              `json:"tokenRef"` // pipeline.TokenRef of the token
	State      pipeline.TokenState `json:"state"`    // open, claimed or answered; open if the ledger never saw it
	AnsweredBy string              `json:"answeredBy,omitempty"`
	Outcome    pipeline.Outcome    `json:"outcome,omitempty"`
	// Resources is the cleanup plan: what a stop cleans, and who
	// registered each (the step's arguments, or a worker's IAM identity).
	Resources []ResourceView `json:"resources,omitempty"`
	Cleanups  []CleanupView  `json:"cleanups,omitempty"`
}

// ResourceView is one resource of a cleanup plan.
type ResourceView struct {
	Kind         string `json:"kind"`
	ID           string `json:"id"`
	RegisteredBy string `json:"registeredBy,omitempty"`
}

func resourceViews(plan []pipeline.Resource) []ResourceView {
	var out []ResourceView
	for _, r := range plan {
		out = append(out, ResourceView{Kind: r.Kind, ID: r.ID, RegisteredBy: r.RegisteredBy})
	}
	return out
}

// CleanupView is the record of cleaning one resource.
type CleanupView struct {
	Kind      string                 `json:"kind"`
	ID        string                 `json:"id"`
	Status    pipeline.CleanupStatus `json:"status"`
	Attempts  int                    `json:"attempts"`
	LastError string                 `json:"lastError,omitempty"`
	LastAt    time.Time              `json:"lastAt"`
}

// Blocking is what a stop of the execution still waits for.
type Blocking struct {
	OpenCallbacks  []OpenCallback  `json:"openCallbacks"`
	RunningLambdas []RunningLambda `json:"runningLambdas"`
}

// OpenCallback is a callback step whose token is not answered.
type OpenCallback struct {
	StepName string     `json:"stepName"`
	TokenRef string     `json:"tokenRef,omitempty"`
	Since    *time.Time `json:"since,omitempty"` // when the step started
}

// RunningLambda is a Lambda step the stop must wait out.
type RunningLambda struct {
	StepName    string     `json:"stepName"`
	FunctionARN string     `json:"functionArn,omitempty"`
	StartedAt   *time.Time `json:"startedAt,omitempty"`
	EndsBy      *time.Time `json:"endsBy,omitempty"`
}

// ViewExecution reads an execution's view. When the ledger has it terminal
// the ledger is enough; otherwise SageMaker is asked, so a missed event
// never shows a stale state.
func (s *Service) ViewExecution(ctx context.Context, rawARN string) (ExecutionView, error) {
	arn, err := pipeline.ParseExecutionARN(rawARN)
	if err != nil {
		return ExecutionView{}, err
	}
	if err := s.access.Check(arn); err != nil {
		return ExecutionView{}, err
	}
	rec, err := s.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return ExecutionView{}, err
	}
	v := fromLedger(arn, rec)
	if rec.Execution == nil || !rec.Execution.Status.Terminal() {
		if err := s.mergeSageMaker(ctx, arn, &v, rec); err != nil {
			return ExecutionView{}, err
		}
	}
	if err := s.fillLambdaDeadlines(ctx, arn, rec, &v); err != nil {
		return ExecutionView{}, err
	}
	v.Blocking = blocking(v)
	return v, nil
}

// ViewStop reads a stop request and the view of its execution.
func (s *Service) ViewStop(ctx context.Context, id string) (pipeline.StopRequest, ExecutionView, error) {
	stop, err := s.ledger.GetStop(ctx, id)
	if err != nil {
		return pipeline.StopRequest{}, ExecutionView{}, err
	}
	v, err := s.ViewExecution(ctx, stop.ExecutionARN)
	if err != nil {
		return pipeline.StopRequest{}, ExecutionView{}, err
	}
	for _, st := range v.Stops {
		if st.ID == id {
			stop = st // the strongly consistent copy
		}
	}
	return stop, v, nil
}

func fromLedger(arn pipeline.ExecutionARN, rec pipeline.View) ExecutionView {
	v := ExecutionView{ExecutionARN: arn.String(), PipelineName: arn.Pipeline, Source: "ledger", Stops: rec.Stops}
	if e := rec.Execution; e != nil {
		v.Status, v.StartedAt, v.EndedAt, v.FailureReason = e.Status, timePtr(e.StartedAt), timePtr(e.EndedAt), e.FailureReason
	}
	tokens, cleanups := tokensByValue(rec.Tokens), cleanupsByToken(rec.Cleanups)
	for _, s := range rec.Steps {
		sv := StepView{Name: s.StepName, Kind: s.Kind, Status: s.Status, StartedAt: timePtr(s.StartedAt), EndedAt: timePtr(s.EndedAt),
			FailureReason: s.FailureReason, FunctionARN: s.FunctionARN, JobARN: s.JobARN}
		if s.CallbackToken != "" {
			sv.Callback = callbackView(s.CallbackToken, tokens, cleanups)
			delete(tokens, s.CallbackToken)
		}
		v.Steps = append(v.Steps, sv)
	}
	// Tokens the callback consumer registered before any step event arrived.
	for _, t := range rec.Tokens {
		if _, left := tokens[t.Token]; !left || t.StepName == "" {
			continue
		}
		if i := stepIndex(v.Steps, t.StepName); i >= 0 {
			v.Steps[i].Callback = callbackView(t.Token, tokens, cleanups)
			continue
		}
		v.Steps = append(v.Steps, StepView{Name: t.StepName, Kind: pipeline.KindCallback, Status: pipeline.StepExecuting, Callback: callbackView(t.Token, tokens, cleanups)})
	}
	for _, s := range rec.Stops {
		v.Timeline = append(v.Timeline, s.Timeline...)
	}
	sort.SliceStable(v.Timeline, func(i, j int) bool { return v.Timeline[i].At.Before(v.Timeline[j].At) })
	v.Terminal = v.Status.Terminal()
	return v
}

func tokensByValue(ts []pipeline.Token) map[string]pipeline.Token {
	m := make(map[string]pipeline.Token, len(ts))
	for _, t := range ts {
		m[t.Token] = t
	}
	return m
}

func cleanupsByToken(cs []pipeline.Cleanup) map[string][]CleanupView {
	m := map[string][]CleanupView{}
	for _, cl := range cs {
		m[cl.Token] = append(m[cl.Token], CleanupView{Kind: cl.Resource.Kind, ID: cl.Resource.ID, Status: cl.Status, Attempts: cl.Attempts, LastError: cl.LastError, LastAt: cl.LastAt})
	}
	return m
}

func callbackView(token string, tokens map[string]pipeline.Token, cleanups map[string][]CleanupView) *CallbackView {
	cv := &CallbackView{TokenRef: pipeline.TokenRef(token), State: pipeline.TokenOpen, Cleanups: cleanups[token]}
	if t, ok := tokens[token]; ok {
		cv.Resources = resourceViews(t.CleanupPlan)
	}
	if t, ok := tokens[token]; ok {
		cv.State, cv.AnsweredBy, cv.Outcome = t.State, t.AnsweredBy, t.Outcome
	}
	return cv
}

// mergeSageMaker brings in SageMaker's current status and steps wherever
// they are further along than the ledger.
func (s *Service) mergeSageMaker(ctx context.Context, arn pipeline.ExecutionARN, v *ExecutionView, rec pipeline.View) error {
	ledgerEmpty := rec.Execution == nil
	desc, err := s.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
	if err != nil {
		return fromSageMaker("describe execution", arn.String(), err)
	}
	if status := pipeline.ExecutionStatus(desc.PipelineExecutionStatus); status.Rank() > v.Status.Rank() || ledgerEmpty {
		v.Status, v.Source = status, "sagemaker"
		if desc.FailureReason != nil {
			v.FailureReason = *desc.FailureReason
		}
		if v.StartedAt == nil {
			v.StartedAt = desc.CreationTime
		}
	}
	v.Terminal = v.Status.Terminal()
	steps, err := listSteps(ctx, s.sm, arn)
	if err != nil {
		return err
	}
	tokens, cleanups := tokensByValue(rec.Tokens), cleanupsByToken(rec.Cleanups)
	for _, status := range steps {
		mergeStep(v, status, tokens, cleanups)
	}
	return nil
}

func mergeStep(v *ExecutionView, s smtypes.PipelineExecutionStep, tokens map[string]pipeline.Token, cleanups map[string][]CleanupView) {
	name := aws.ToString(s.StepName)
	i := stepIndex(v.Steps, name)
	if i < 0 {
		v.Steps = append(v.Steps, StepView{Name: name})
		i = len(v.Steps) - 1
	}
	sv := &v.Steps[i]
	if st := pipeline.StepStatus(s.StepStatus); st.Rank() > sv.Status.Rank() {
		sv.Status = st
		sv.FailureReason = aws.ToString(s.FailureReason)
		if s.EndTime != nil {
			sv.EndedAt = s.EndTime
		}
	}
	if sv.StartedAt == nil {
		sv.StartedAt = s.StartTime
	}
	if d := stepMetadata(s.Metadata); d.kind != "" {
		sv.Kind = d.kind
		if d.functionARN != "" {
			sv.FunctionARN = d.functionARN
		}
		if d.jobARN != "" {
			sv.JobARN = d.jobARN
		}
		if d.callbackToken != "" && sv.Callback == nil {
			// The ledger may know the token (a worker registered resources)
			// before any step event arrived.
			sv.Callback = callbackView(d.callbackToken, tokens, cleanups)
		}
	}
}

// fillLambdaDeadlines sets EndsBy on running Lambda steps: the ledger's
// recorded timeout, else the step's Timeout in the pipeline definition,
// else SageMaker's default of 120 s.
func (s *Service) fillLambdaDeadlines(ctx context.Context, arn pipeline.ExecutionARN, rec pipeline.View, v *ExecutionView) error {
	recorded := map[string]time.Duration{}
	for _, step := range rec.Steps {
		if step.LambdaTimeout > 0 {
			recorded[step.StepName] = step.LambdaTimeout
		}
	}
	var fromDefinition map[string]time.Duration
	for i := range v.Steps {
		step := &v.Steps[i]
		if step.Kind != pipeline.KindLambda || step.StartedAt == nil || step.Status.Terminal() {
			continue
		}
		timeout, ok := recorded[step.Name]
		if !ok {
			if fromDefinition == nil {
				var err error
				if fromDefinition, err = s.lambdaTimeouts(ctx, arn); err != nil {
					return err
				}
			}
			if timeout, ok = fromDefinition[step.Name]; !ok {
				timeout = DefaultLambdaTimeout
			}
		}
		step.EndsBy = timePtr(step.StartedAt.Add(timeout))
	}
	return nil
}

// lambdaTimeouts reads each Lambda step's Timeout from the definition the
// execution ran.
func (s *Service) lambdaTimeouts(ctx context.Context, arn pipeline.ExecutionARN) (map[string]time.Duration, error) {
	return definitionTimeouts(ctx, s.sm, arn)
}

// LambdaTimeouts maps each Lambda step of a pipeline definition to its
// Timeout (seconds in the definition). Steps without one are left out; a
// definition that does not parse gives an empty map.
func LambdaTimeouts(definition string) map[string]time.Duration {
	var def struct {
		Steps []definitionStep `json:"Steps"`
	}
	m := map[string]time.Duration{}
	if json.Unmarshal([]byte(definition), &def) != nil {
		return m
	}
	var walk func([]definitionStep)
	walk = func(steps []definitionStep) {
		for _, s := range steps {
			if s.Type == string(pipeline.KindLambda) && s.Timeout > 0 {
				m[s.Name] = time.Duration(s.Timeout * float64(time.Second))
			}
			walk(s.Arguments.IfSteps)
			walk(s.Arguments.ElseSteps)
		}
	}
	walk(def.Steps)
	return m
}

type definitionStep struct {
	Name      string  `json:"Name"`
	Type      string  `json:"Type"`
	Timeout   float64 `json:"Timeout"`
	Arguments struct {
		IfSteps   []definitionStep `json:"IfSteps"`
		ElseSteps []definitionStep `json:"ElseSteps"`
	} `json:"Arguments"`
}

// blocking lists what a stop still waits for: callback steps whose token is
// not answered and Lambda steps still running.
func blocking(v ExecutionView) Blocking {
	b := Blocking{OpenCallbacks: []OpenCallback{}, RunningLambdas: []RunningLambda{}}
	if v.Terminal {
		return b
	}
	for _, s := range v.Steps {
		if s.Status.Terminal() {
			continue
		}
		switch s.Kind.StopBehaviour() {
		case pipeline.BlocksUntilAnswered:
			state := pipeline.TokenOpen
			if s.Callback != nil {
				state = s.Callback.State
			}
			if !waitsForAnswer(s.Status, state) {
				continue
			}
			oc := OpenCallback{StepName: s.Name, Since: s.StartedAt}
			if s.Callback != nil {
				oc.TokenRef = s.Callback.TokenRef
			}
			b.OpenCallbacks = append(b.OpenCallbacks, oc)
		case pipeline.BlocksUntilFinished:
			b.RunningLambdas = append(b.RunningLambdas, RunningLambda{StepName: s.Name, FunctionARN: s.FunctionARN, StartedAt: s.StartedAt, EndsBy: s.EndsBy})
		}
	}
	return b
}

func stepIndex(steps []StepView, name string) int {
	for i, s := range steps {
		if s.Name == name {
			return i
		}
	}
	return -1
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
