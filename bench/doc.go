// Package bench holds the measurements that span the built functions: the
// cold-start table (cmd/coldstart, `make bench`) with the bootstraps it
// compares them with (testdata: hello world, the floor, and the floor with
// the cleaners' clients), the bulk stop at scale (cmd/bulkstop, `make
// bench-bulk`), and the module pins that keep init at the floor
// (pins_test.go).
package bench
