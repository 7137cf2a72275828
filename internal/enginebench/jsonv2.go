//go:build goexperiment.jsonv2

package enginebench

import jsonv2 "encoding/json/v2"

// extraEngines adds the standard library's encoding/json/v2, which is
// built only with GOEXPERIMENT=jsonv2.
var extraEngines = []struct {
	name   string
	decode func([]byte, any) error
}{
	{"encoding-json-v2", func(b []byte, v any) error { return jsonv2.Unmarshal(b, v) }},
}
