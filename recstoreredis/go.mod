module github.com/recstore/recstore/recstoreredis

go 1.26.0

replace github.com/recstore/recstore => ../

require (
	github.com/recstore/recstore v0.0.0-00010101000000-000000000000
	github.com/redis/rueidis v1.0.79
	github.com/stretchr/testify v1.12.1
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
