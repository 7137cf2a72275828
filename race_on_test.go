//go:build race

package recstore_test

const raceEnabled = true
