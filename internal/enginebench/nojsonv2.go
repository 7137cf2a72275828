//go:build !goexperiment.jsonv2

package enginebench

// extraEngines is empty without GOEXPERIMENT=jsonv2; see jsonv2.go.
var extraEngines []struct {
	name   string
	decode func([]byte, any) error
}
