module github.com/recstore/recstore/internal/enginebench

go 1.26

replace github.com/recstore/recstore => ../..

require (
	github.com/go-json-experiment/json v1.27.2
	github.com/goccy/go-json v0.12.0
	github.com/json-iterator/go v1.1.12
	github.com/recstore/recstore v0.0.0-00010101000000-000000000000
)

require (
	github.com/modern-go/concurrent v0.0.0-20180228061459-e0a39a4cb421 // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
)
