// Package faults is obslink's fault suite (make faults).
package faults
