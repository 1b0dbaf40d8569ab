package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progress reports a batch as it goes, on stderr: a bar redrawn in place on
// a terminal, a line per row otherwise (logs, CI). Its methods are called
// from the batch's goroutines.
type progress interface {
	begin(rows int, rate float64, concurrency int)
	done(res rowResult)
	end()
}

func newProgress(e *env, rows int) progress {
	if e.stderrTTY != nil && e.stderrTTY() {
		return &barProgress{w: e.stderr, total: rows}
	}
	return &lineProgress{w: e.stderr, total: rows}
}

// counts tallies finished rows.
type counts struct {
	finished, started, already, failed int
}

func (c *counts) add(res rowResult) {
	c.finished++
	switch {
	case res.err != nil:
		c.failed++
	case res.run.AlreadyRunning:
		c.already++
	default:
		c.started++
	}
}

// lineProgress writes one line per row: "[3/47] line 4 +15551234567: started".
type lineProgress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	counts
}

func (p *lineProgress) begin(rows int, rate float64, concurrency int) {
	fmt.Fprintf(p.w, "starting %d rows, at most %g a second and %d at a time\n", rows, rate, concurrency)
}

func (p *lineProgress) done(res rowResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.add(res)
	fmt.Fprintf(p.w, "[%d/%d] line %d %s: %s\n", p.finished, p.total, res.row.line, res.row.number, outcome(res))
}

func (p *lineProgress) end() {}

// outcome is a row's result in a few words, without its input.
func outcome(res rowResult) string {
	switch {
	case res.reason != "":
		return "failed: " + res.reason
	case res.err != nil && isInputError(res.err):
		return "refused: " + strings.Join(errorLines(res.err), "; ")
	case res.err != nil:
		return "failed: " + describe(res.err)
	case res.run.AlreadyRunning:
		return "already running"
	default:
		return "started"
	}
}

// barProgress redraws one line: a bar and the counts so far.
type barProgress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	counts
}

const barWidth = 30

func (p *barProgress) begin(int, float64, int) { p.draw() }

func (p *barProgress) done(res rowResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.add(res)
	p.draw()
}

func (p *barProgress) draw() {
	filled := 0
	if p.total > 0 {
		filled = p.finished * barWidth / p.total
	}
	// \r and erase-line redraw in place; nothing else of the terminal is
	// assumed.
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d  started %d  already running %d  failed %d",
		strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), p.finished, p.total, p.started, p.already, p.failed)
}

func (p *barProgress) end() { fmt.Fprintln(p.w) }
