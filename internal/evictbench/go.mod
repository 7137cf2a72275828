module github.com/recstore/recstore/internal/evictbench

go 1.26

replace github.com/recstore/recstore => ../..

require (
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/maypok86/otter v1.2.4
	github.com/maypok86/otter/v2 v2.4.0
	github.com/recstore/recstore v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/gammazero/deque v0.2.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)
