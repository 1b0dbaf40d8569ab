// Package e2e runs the product end to end: a real Temporal dev server (the
// Temporal CLI the Makefile builds), the worker and starter binaries as
// separate processes, and the Graph simulator over real HTTP.
//
// The tests need TEMPORAL_CLI_PATH (make test sets it). Without it they are
// skipped locally and fail under CI, where skipping would hide a broken
// install step.
package e2e
