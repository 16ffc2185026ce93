// Package bench holds the measurements that span the built functions: the
// cold-start table (cmd/coldstart, `make bench`), the bulk stop at scale
// the bootstraps they compare with
// (testdata), and the module pins that keep init at the floor (pins_test.go).
package bench
