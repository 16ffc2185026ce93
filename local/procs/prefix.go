package procs

import (
	"bytes"
	"io"
	"sync"
)

// Lines writes whole lines from several processes to one writer, each line
// prefixed with the name of the process that wrote it, so that the logs of
// a stack of servers read like `sam local`'s: "[stop-api] {...}".
type Lines struct {
	mu  sync.Mutex
	out io.Writer
}

// NewLines returns a Lines writing to out.
func NewLines(out io.Writer) *Lines { return &Lines{out: out} }

// Writer returns the writer for one process. It keeps a partial line until
// its end arrives, so lines of different processes never interleave.
func (l *Lines) Writer(name string) io.Writer {
	return &prefixWriter{lines: l, prefix: []byte("[" + name + "] ")}
}

// maxLine bounds a kept partial line: a process that writes without line
// breaks is flushed in pieces rather than held in memory.
const maxLine = 64 << 10

type prefixWriter struct {
	lines   *Lines
	prefix  []byte
	mu      sync.Mutex
	partial []byte
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	var out []byte
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			if len(w.partial) >= maxLine {
				out = append(append(append(out, w.prefix...), w.partial...), '\n')
				w.partial = w.partial[:0]
			}
			break
		}
		out = append(append(append(out, w.prefix...), w.partial...), p[:i+1]...)
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	if len(out) > 0 {
		w.lines.mu.Lock()
		_, err := w.lines.out.Write(out)
		w.lines.mu.Unlock()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
