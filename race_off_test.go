//go:build !race

package recstore_test

const raceEnabled = false
