package emulatortest

import (
	"bytes"
	"os"
)

// EventLines reads the emulator's events file (Options.EventsFile) and
// returns its complete lines, one event envelope each. The emulator appends
// while tests read, so a last line without its newline is still being
// written: it is left for the next read rather than returned half-written.
func EventLines(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		return nil, nil
	}
	var lines [][]byte
	for line := range bytes.SplitSeq(b[:end], []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) > 0 {
			lines = append(lines, line)
		}
	}
	return lines, nil
}
