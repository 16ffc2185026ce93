package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/local/sqspoller"
)

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER: orphans of our children
// become ours, so a process left behind by a server we stopped is still
// found (and not silently adopted by init).
const prSetChildSubreaper = 36

func becomeSubreaper() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
	return nil
}

// proc is one process of the system, from /proc.
type proc struct {
	pid, ppid int
	state     string
	cmdline   string
	exe       string
}

// descendants lists the processes below this one.
func descendants() []proc {
	entries, _ := os.ReadDir("/proc")
	all := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		s := string(stat)
		rest := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(rest) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(rest[1])
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		all[pid] = proc{pid: pid, ppid: ppid, state: rest[0], cmdline: strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")), exe: exe}
	}
	me := os.Getpid()
	var out []proc
	for _, p := range all {
		for q, hops := p, 0; hops < 64; hops++ {
			if q.ppid == me {
				out = append(out, p)
				break
			}
			next, ok := all[q.ppid]
			if !ok {
				break
			}
			q = next
		}
	}
	return out
}

// findProcess returns the pid of the descendant that matches.
func findProcess(match func(proc) bool) (int, bool) {
	for _, p := range descendants() {
		if p.state != "Z" && match(p) {
			return p.pid, true
		}
	}
	return 0, false
}

// pauseDynamoDB stops DynamoDB Local's JVM for d and continues it; the
// functions' calls wait, time out and retry meanwhile.
func (c *chaos) pauseDynamoDB(ctx context.Context, d time.Duration) {
	pid, ok := findProcess(func(p proc) bool {
		return strings.Contains(p.cmdline, "DynamoDBLocal.jar") && strings.Contains(p.exe, "java")
	})
	if !ok {
		c.harnessProblem("pause DynamoDB Local: its process was not found")
		return
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		c.harnessProblem("pause DynamoDB Local: %v", err)
		return
	}
	c.faultf("DynamoDB Local (pid %d) paused for %s", pid, d)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	syscall.Kill(pid, syscall.SIGCONT)
	c.faultf("DynamoDB Local continued")
}

// batchWatch wraps the callback function's invoker: it knows when a batch
// is under way and, once armed, kills the function's process in the middle
// of the first batch that carries a Stopping message. aws-lambda-rie starts
// the bootstrap again on the next invocation, as Lambda starts a new
// execution environment after a crash.
type batchWatch struct {
	next      sqspoller.Invoker
	bootstrap string // the function's bootstrap path, to find its process
	c         *chaos
	armed     atomic.Bool
	once      sync.Once
	killed    atomic.Int32
	batches   atomic.Int64
	failed    atomic.Int64
	// inKilled are the message ids of the batch that was killed: Lambda
	// returns them only after the queue's visibility timeout.
	inKilled sync.Map
}

func (b *batchWatch) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	b.batches.Add(1)
	if b.armed.Load() && stoppingInBatch(payload) {
		b.once.Do(func() {
			go func() {
				// The function has its batch: let it get into its work.
				time.Sleep(150 * time.Millisecond)
				abs, _ := filepath.Abs(b.bootstrap)
				pid, ok := findProcess(func(p proc) bool { return p.exe == abs || strings.HasPrefix(p.cmdline, abs) })
				if !ok {
					b.c.harnessProblem("kill the callback function: its process (%s) was not found", abs)
					return
				}
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					b.c.harnessProblem("kill the callback function: %v", err)
					return
				}
				b.killed.Add(1)
				for _, id := range messageIDs(payload) {
					b.inKilled.Store(id, true)
				}
				b.c.faultf("callback function's process (pid %d) killed in the middle of a batch of %d records", pid, records(payload))
			}()
		})
	}
	out, err := b.next.Invoke(ctx, payload)
	if err != nil {
		b.failed.Add(1)
	}
	return out, err
}

func stoppingInBatch(payload []byte) bool {
	var ev events.SQSEvent
	if json.Unmarshal(payload, &ev) != nil {
		return false
	}
	for _, r := range ev.Records {
		if strings.Contains(strings.ToLower(r.Body), `"stopping"`) {
			return true
		}
	}
	return false
}

func messageIDs(payload []byte) []string {
	var ev events.SQSEvent
	json.Unmarshal(payload, &ev)
	ids := make([]string, len(ev.Records))
	for i, r := range ev.Records {
		ids[i] = r.MessageId
	}
	return ids
}

func records(payload []byte) int {
	var ev events.SQSEvent
	json.Unmarshal(payload, &ev)
	return len(ev.Records)
}
