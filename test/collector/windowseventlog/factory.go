// Package windowseventlog registers the `windows_event_log` receiver type (alias `windowseventlog`) the
// way the upstream receiver does when built for a non-Windows OS: the configuration is the real one
// (pkg/stanza's windows input Config, so unknown or mistyped keys fail `otelcol validate`) and Validate
// makes the checks upstream's Build makes on Windows. One difference: upstream refuses to create the
// receiver on other systems, which makes `validate` fail there; this one is created and refuses to start.
//
// Why not the upstream module: receiver/windowseventlogreceiver is not served by the Go module proxy this
// project can reach, while pkg/stanza (which holds its whole configuration) is. The tests only need the
// built collector to validate collector-config/windows-agent.yaml on Linux.
package windowseventlog

import (
	"context"
	"errors"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/adapter"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/input/windows"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/xreceiver"
)

var (
	componentType  = component.MustNewType("windows_event_log")
	deprecatedType = component.MustNewType("windowseventlog")
)

// Config mirrors upstream's WindowsLogConfig: the stanza input config and the adapter's base config
// (operators, storage, retry_on_failure), both squashed.
type Config struct {
	InputConfig        windows.Config `mapstructure:",squash"`
	adapter.BaseConfig `mapstructure:",squash"`

	_ struct{}
}

func NewFactory() receiver.Factory {
	return xreceiver.NewFactory(componentType, createDefaultConfig,
		xreceiver.WithLogs(createLogs, component.StabilityLevelAlpha),
		xreceiver.WithDeprecatedTypeAlias(deprecatedType))
}

func createDefaultConfig() component.Config {
	return &Config{
		BaseConfig:  adapter.BaseConfig{Operators: []operator.Config{}},
		InputConfig: *windows.NewConfig(),
	}
}

// Validate repeats the checks of pkg/stanza's windows Config.Build, which only exists on Windows.
func (c *Config) Validate() error {
	in := c.InputConfig
	switch {
	case in.Channel == "" && in.Query == nil && in.Path == nil:
		return errors.New("either `channel`, `query` or `path` must be set")
	case in.Path != nil && (in.Channel != "" || in.Query != nil):
		return errors.New("the `path` field cannot be used with `channel` or `query`")
	case in.Channel != "" && in.Query != nil:
		return errors.New("either `channel` or `query` must be set, but not both")
	case in.MaxReads < 1:
		return errors.New("the `max_reads` field must be greater than zero")
	case in.StartAt != "end" && in.StartAt != "beginning":
		return errors.New("the `start_at` field must be set to `beginning` or `end`")
	case in.EventDataFormat != windows.EventDataFormatMap && in.EventDataFormat != windows.EventDataFormatArray:
		return errors.New("the `event_data_format` field must be set to `map` or `array`")
	case (in.Remote.Server != "" || in.Remote.Username != "" || in.Remote.Password != "") &&
		(in.Remote.Server == "" || in.Remote.Username == "" || in.Remote.Password == ""):
		return errors.New("remote configuration must have non-empty `username` and `password`")
	}
	return nil
}

func createLogs(context.Context, receiver.Settings, component.Config, consumer.Logs) (receiver.Logs, error) {
	return notOnThisOS{}, nil
}

type notOnThisOS struct{}

func (notOnThisOS) Start(context.Context, component.Host) error {
	return errors.New("windows_event_log receiver is only supported on Windows")
}

func (notOnThisOS) Shutdown(context.Context) error { return nil }
