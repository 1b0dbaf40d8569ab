// Command benchratio reads `go test -bench` output on stdin, passes it
// through, and then prints each benchmark's cost as a ratio to the sibling
// sub-benchmark whose name starts with "baseline", measured in the same run.
// Ratios, not absolute times, are what this project reports: absolute times
// depend on the machine and on what else it is doing.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

type sample struct{ ns, bytes, allocs []float64 }

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	groups := map[string]map[string]*sample{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(out, line)
		group, sub, s, ok := parse(line)
		if !ok {
			continue
		}
		if groups[group] == nil {
			groups[group] = map[string]*sample{}
		}
		acc := groups[group][sub]
		if acc == nil {
			acc = &sample{}
			groups[group][sub] = acc
		}
		acc.ns = append(acc.ns, s.ns...)
		acc.bytes = append(acc.bytes, s.bytes...)
		acc.allocs = append(acc.allocs, s.allocs...)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	fmt.Fprintln(out, "\nRatios to the baseline measured in the same run (time, bytes, allocations):")
	for _, g := range names {
		var base string
		for sub := range groups[g] {
			if strings.HasPrefix(sub, "baseline") {
				base = sub
			}
		}
		if base == "" {
			continue
		}
		b := groups[g][base]
		subs := make([]string, 0, len(groups[g]))
		for sub := range groups[g] {
			if sub != base {
				subs = append(subs, sub)
			}
		}
		sort.Strings(subs)
		for _, sub := range subs {
			s := groups[g][sub]
			fmt.Fprintf(out, "  %s: %s / %s = %s time, %s bytes, %s allocs (n=%d)\n", g, sub, base,
				ratio(s.ns, b.ns), ratio(s.bytes, b.bytes), ratio(s.allocs, b.allocs), len(s.ns))
		}
	}
	return nil
}

// parse reads "BenchmarkX/sub-2   100   123 ns/op   45 B/op   6 allocs/op".
func parse(line string) (group, sub string, s sample, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", "", s, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i] // the GOMAXPROCS suffix
		}
	}
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", "", s, false
	}
	group, sub = name[:i], name[i+1:]
	for j := 2; j+1 < len(f); j += 2 {
		v, err := strconv.ParseFloat(f[j], 64)
		if err != nil {
			continue
		}
		switch f[j+1] {
		case "ns/op":
			s.ns = append(s.ns, v)
		case "B/op":
			s.bytes = append(s.bytes, v)
		case "allocs/op":
			s.allocs = append(s.allocs, v)
		}
	}
	return group, sub, s, len(s.ns) > 0
}

func mean(v []float64) float64 {
	var t float64
	for _, x := range v {
		t += x
	}
	return t / float64(len(v))
}

func ratio(a, b []float64) string {
	if len(a) == 0 || len(b) == 0 || mean(b) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", mean(a)/mean(b))
}
