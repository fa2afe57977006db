package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"sigs.k8s.io/yaml"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/dashboards"
	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/rules"
)

var update = flag.Bool("update", false, "rewrite compose/prometheus/rules/okrd.rules.yml from `okrd rules` on the demo's configuration")

const (
	composeFile = "compose/compose.yaml"
	rulesFile   = "compose/prometheus/rules/okrd.rules.yml"
	// okrdVolume is the volume the demo's files live on, shared by the
	// okrd, dashboards and grafana services.
	okrdVolume = "okrd-demo"
)

// loadCompose loads a compose file the way `docker compose` does, with
// compose-go, the compose specification's reference loader: the file is
// validated against the specification's JSON schema, then interpolated,
// normalised and checked for consistency (unknown services in depends_on,
// undeclared volumes).
func loadCompose(t *testing.T, file string) (*types.Project, error) {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(abs),
		ConfigFiles: []types.ConfigFile{{Filename: abs}},
		// No variable of the caller's environment may change the file's
		// meaning.
		Environment: types.Mapping{},
	})
}

func composeProject(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadCompose(t, composeFile)
	if err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("%s: no service %q", composeFile, name)
	}
	return s
}

// TestComposeFileFollowsTheComposeSpecification loads the quickstart with
// the specification's loader, and shows that the loader rejects what the
// specification does not allow, so that a passing load means something.
func TestComposeFileFollowsTheComposeSpecification(t *testing.T) {
	p := composeProject(t)
	if p.Name != "okrd-demo" {
		t.Errorf("project name %q, want okrd-demo", p.Name)
	}
	want := []string{"alertmanager", "dashboards", "grafana", "okrd", "prometheus"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Errorf("services %v, want %v", got, want)
	}

	original, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new string }{
		{"a misspelt service key", "    read_only: true\n    tmpfs:", "    readonly: true\n    tmpfs:"},
		{"a healthcheck interval that is not a duration", "interval: 5s", "interval: often"},
		{"a dependency on a service that does not exist", "      okrd:\n        condition: service_healthy", "      okrd-missing:\n        condition: service_healthy"},
		{"an undeclared volume", "      - prometheus-data:/prometheus", "      - prometheus-tsdb:/prometheus"},
	} {
		t.Run("the loader rejects "+tc.name, func(t *testing.T) {
			if !bytes.Contains(original, []byte(tc.old)) {
				t.Fatalf("%s no longer contains %q; update the test", composeFile, tc.old)
			}
			broken := filepath.Join(t.TempDir(), "compose.yaml")
			if err := os.WriteFile(broken, bytes.Replace(original, []byte(tc.old), []byte(tc.new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := loadCompose(t, broken); err == nil {
				t.Errorf("loaded a compose file with %s", tc.name)
			} else {
				t.Logf("rejected: %v", err)
			}
		})
	}
}

// pinnedTag is an image tag that names one release (v3.5.0, 12.3.0), not a
// moving one such as latest or 3.
var pinnedTag = regexp.MustCompile(`^v?\d+\.\d+\.\d+$`)

// secretName is an environment variable name that says it holds a secret.
var secretName = regexp.MustCompile(`(?i)password|secret|token|api_?key|credential`)

// TestComposeServicesArePinnedConfinedAndFreeOfSecrets checks every
// service: third-party images pinned to a release, okrd's image built from
// the repository's Dockerfile, ports published on the host's loopback
// only, no capability and no privilege gain, and no secret in the file.
func TestComposeServicesArePinnedConfinedAndFreeOfSecrets(t *testing.T) {
	p := composeProject(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range p.Services {
		switch s.Image {
		case "okrd:demo":
			// Built by the okrd service, used by the dashboards service.
			if name == "okrd" {
				if s.Build == nil || filepath.Clean(s.Build.Context) != root {
					t.Errorf("service okrd: must build the repository's Dockerfile (context %s), has %+v", root, s.Build)
				} else if _, err := os.Stat(filepath.Join(s.Build.Context, "Dockerfile")); err != nil {
					t.Errorf("service okrd: %v", err)
				}
			} else if s.PullPolicy != types.PullPolicyNever {
				t.Errorf("service %s: okrd:demo is built locally, so pull_policy must be never, not %q", name, s.PullPolicy)
			}
		default:
			_, tag, ok := strings.Cut(s.Image, ":")
			if !ok || !pinnedTag.MatchString(tag) || s.Build != nil {
				t.Errorf("service %s: image %q is not pinned to a release (repository:vX.Y.Z)", name, s.Image)
			}
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("service %s: port %d is published on %q, want the host's loopback 127.0.0.1", name, port.Target, port.HostIP)
			}
		}
		if !slices.Equal(s.CapDrop, []string{"ALL"}) || len(s.CapAdd) > 0 {
			t.Errorf("service %s: cap_drop %v, cap_add %v; want every capability dropped and none added", name, s.CapDrop, s.CapAdd)
		}
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("service %s: security_opt %v lacks no-new-privileges:true", name, s.SecurityOpt)
		}
		if s.Privileged {
			t.Errorf("service %s is privileged", name)
		}
		for k := range s.Environment {
			if secretName.MatchString(k) {
				t.Errorf("service %s: environment variable %s looks like a secret; secrets stay out of the compose file", name, k)
			}
		}
	}
	if len(p.Secrets) > 0 {
		t.Errorf("the quickstart declares secrets %v; it needs none", p.Secrets)
	}
}

// flagValue returns the value of --name=value or --name value in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// mountOf returns where a service mounts a named volume.
func mountOf(t *testing.T, s types.ServiceConfig, volume string) types.ServiceVolumeConfig {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Source == volume {
			return v
		}
	}
	t.Fatalf("service %s does not mount volume %s", s.Name, volume)
	return types.ServiceVolumeConfig{}
}

// bindOf returns the bind mount of a service whose source is the given
// directory of the repository.
func bindOf(t *testing.T, s types.ServiceConfig, source string) types.ServiceVolumeConfig {
	t.Helper()
	abs, err := filepath.Abs(source)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && filepath.Clean(v.Source) == abs {
			return v
		}
	}
	t.Fatalf("service %s does not mount %s", s.Name, source)
	return types.ServiceVolumeConfig{}
}

// grafanaProviders is Grafana's dashboard provisioning file.
type grafanaProviders struct {
	APIVersion int `json:"apiVersion"`
	Providers  []struct {
		Name                  string `json:"name"`
		OrgID                 int    `json:"orgId"`
		Type                  string `json:"type"`
		Folder                string `json:"folder"`
		FolderUID             string `json:"folderUid"`
		AllowUIUpdates        bool   `json:"allowUiUpdates"`
		DisableDeletion       bool   `json:"disableDeletion"`
		UpdateIntervalSeconds int    `json:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `json:"path"`
			FoldersFromFilesStructure bool   `json:"foldersFromFilesStructure"`
		} `json:"options"`
	} `json:"providers"`
}

// grafanaDatasources is Grafana's data source provisioning file.
type grafanaDatasources struct {
	APIVersion  int `json:"apiVersion"`
	Datasources []struct {
		Name      string `json:"name"`
		UID       string `json:"uid"`
		Type      string `json:"type"`
		Access    string `json:"access"`
		URL       string `json:"url"`
		IsDefault bool   `json:"isDefault"`
		Editable  bool   `json:"editable"`
		JSONData  struct {
			TimeInterval string `json:"timeInterval"`
			HTTPMethod   string `json:"httpMethod"`
		} `json:"jsonData"`
	} `json:"datasources"`
}

// prometheusConfig is the part of prometheus.yml the services share.
type prometheusConfig struct {
	Global struct {
		ScrapeInterval     string `json:"scrape_interval"`
		EvaluationInterval string `json:"evaluation_interval"`
	} `json:"global"`
	RuleFiles []string `json:"rule_files"`
	Alerting  struct {
		Alertmanagers []struct {
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"alertmanagers"`
	} `json:"alerting"`
	ScrapeConfigs []struct {
		JobName       string `json:"job_name"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
	} `json:"scrape_configs"`
}

// onVolume maps a path inside a service's container to its path relative
// to the root of a volume the service mounts there, or reports that the
// volume does not hold it.
func onVolume(mount types.ServiceVolumeConfig, p string) (string, bool) {
	rel, ok := strings.CutPrefix(path.Clean(p), path.Clean(mount.Target)+"/")
	return rel, ok
}

// TestComposeServicesFitTogether checks what ties the services together:
// the demo listens where its published port leads, the dashboards service
// reads the configuration the demo writes and writes where Grafana's
// provider looks, Prometheus loads its configuration and rules from where
// they are mounted and scrapes the services by the names and ports they
// have, and Grafana's data source is that Prometheus.
func TestComposeServicesFitTogether(t *testing.T) {
	p := composeProject(t)
	okrd := service(t, p, "okrd")

	// The demo's okrd must listen on every interface of its container:
	// Docker forwards the published port to the container's address, which
	// a loopback listener never sees.
	listen, ok := flagValue(okrd.Command, "web.listen-address")
	if !ok {
		t.Fatalf("service okrd: command %v has no --web.listen-address", okrd.Command)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("service okrd: --web.listen-address %q: %v", listen, err)
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		t.Errorf("service okrd: listens on %q, which the published port cannot reach; want every interface (:%s)", listen, port)
	}
	if len(okrd.Ports) != 1 || strconv.Itoa(int(okrd.Ports[0].Target)) != port || okrd.Ports[0].Published != "9184" {
		t.Errorf("service okrd: ports %+v, want 127.0.0.1:9184 published to the listen port %s", okrd.Ports, port)
	}
	if okrd.Command[0] != "demo" {
		t.Errorf("service okrd: command %v does not run okrd demo", okrd.Command)
	}

	// The dashboards job reads the configuration the demo writes.
	dir, ok := flagValue(okrd.Command, "dir")
	if !ok {
		t.Fatalf("service okrd: command %v has no --dir", okrd.Command)
	}
	okrdMount := mountOf(t, okrd, okrdVolume)
	demoDir, ok := onVolume(okrdMount, dir)
	if !ok || okrdMount.ReadOnly {
		t.Fatalf("service okrd: --dir %s is not on the writable %s volume (%+v)", dir, okrdVolume, okrdMount)
	}
	configFile := path.Join(dir, "okrd.toml")
	if okrd.HealthCheck == nil || !slices.Equal(okrd.HealthCheck.Test, types.HealthCheckTest{"CMD", "/usr/local/bin/okrd", "check", "--config", configFile}) {
		t.Errorf("service okrd: healthcheck %+v, want okrd check --config %s", okrd.HealthCheck, configFile)
	}
	job := service(t, p, "dashboards")
	jobMount := mountOf(t, job, okrdVolume)
	if cfg, _ := flagValue(job.Command, "config"); job.Command[0] != "dashboards" || cfg == "" {
		t.Errorf("service dashboards: command %v, want okrd dashboards --config ...", job.Command)
	} else if rel, ok := onVolume(jobMount, cfg); !ok || rel != path.Join(demoDir, "okrd.toml") {
		t.Errorf("service dashboards: --config %s is not the demo's %s on the %s volume", cfg, configFile, okrdVolume)
	}
	if dep, ok := job.DependsOn["okrd"]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("service dashboards: depends_on %+v, want okrd: service_healthy (the configuration written)", job.DependsOn)
	}
	out, _ := flagValue(job.Command, "out")
	outRel, ok := onVolume(jobMount, out)
	if !ok || jobMount.ReadOnly {
		t.Fatalf("service dashboards: --out %q is not on the writable %s volume", out, okrdVolume)
	}

	// Grafana's provider reads them where the volume is mounted in Grafana.
	grafana := service(t, p, "grafana")
	grafanaMount := mountOf(t, grafana, okrdVolume)
	if !grafanaMount.ReadOnly {
		t.Errorf("service grafana: mounts %s writable; it only reads the dashboards", okrdVolume)
	}
	provisioning := "compose/grafana/provisioning"
	if m := bindOf(t, grafana, provisioning+"/dashboards"); m.Target != "/etc/grafana/provisioning/dashboards" || !m.ReadOnly {
		t.Errorf("service grafana: dashboard provisioning mounted at %s (read-only %v)", m.Target, m.ReadOnly)
	}
	if m := bindOf(t, grafana, provisioning+"/datasources"); m.Target != "/etc/grafana/provisioning/datasources" || !m.ReadOnly {
		t.Errorf("service grafana: data source provisioning mounted at %s (read-only %v)", m.Target, m.ReadOnly)
	}
	var providers grafanaProviders
	readYAML(t, provisioning+"/dashboards/okrd.yaml", &providers)
	if len(providers.Providers) != 1 || providers.Providers[0].Type != "file" {
		t.Fatalf("dashboard provisioning: want one file provider, have %+v", providers.Providers)
	}
	if rel, ok := onVolume(grafanaMount, providers.Providers[0].Options.Path); !ok || rel != outRel {
		t.Errorf("the dashboard provider reads %s in Grafana, which is not where the dashboards service writes (%s on %s)", providers.Providers[0].Options.Path, out, okrdVolume)
	}
	home := grafana.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
	if home == nil || path.Dir(*home) != providers.Providers[0].Options.Path || path.Base(*home) != dashboards.OverviewUID+".json" {
		t.Errorf("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH %v, want the overview dashboard %s.json in %s", home, dashboards.OverviewUID, providers.Providers[0].Options.Path)
	}

	// Prometheus: its configuration directory, and the names and ports of
	// what it scrapes and alerts.
	prom := service(t, p, "prometheus")
	cfgFlag, _ := flagValue(prom.Command, "config.file")
	if m := bindOf(t, prom, "compose/prometheus"); !m.ReadOnly || cfgFlag != path.Join(m.Target, "prometheus.yml") {
		t.Errorf("service prometheus: --config.file %q is not prometheus.yml of the read-only mount %s", cfgFlag, m.Target)
	}
	var pc prometheusConfig
	readPrometheusConfig(t, &pc)
	targets := map[string][]string{}
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets[sc.JobName] = append(targets[sc.JobName], st.Targets...)
		}
	}
	if want := "okrd:" + port; !slices.Equal(targets["okrd"], []string{want}) {
		t.Errorf("prometheus.yml scrapes okrd at %v, want %s", targets["okrd"], want)
	}
	am := service(t, p, "alertmanager")
	amTarget := "alertmanager:" + strconv.Itoa(int(am.Ports[0].Target))
	if len(pc.Alerting.Alertmanagers) != 1 || len(pc.Alerting.Alertmanagers[0].StaticConfigs) != 1 ||
		!slices.Equal(pc.Alerting.Alertmanagers[0].StaticConfigs[0].Targets, []string{amTarget}) {
		t.Errorf("prometheus.yml sends alerts to %+v, want %s", pc.Alerting.Alertmanagers, amTarget)
	}
	if !slices.Contains(pc.RuleFiles, "rules/*.yml") {
		t.Errorf("prometheus.yml rule_files %v does not load rules/*.yml, where %s is", pc.RuleFiles, rulesFile)
	}

	// Grafana's data source is that Prometheus, at its scrape interval.
	var ds grafanaDatasources
	readYAML(t, provisioning+"/datasources/okrd.yaml", &ds)
	promURL := "http://prometheus:" + strconv.Itoa(int(prom.Ports[0].Target))
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != promURL || !ds.Datasources[0].IsDefault {
		t.Errorf("data sources %+v, want one default prometheus data source at %s", ds.Datasources, promURL)
	} else if ds.Datasources[0].JSONData.TimeInterval != pc.Global.ScrapeInterval {
		t.Errorf("the data source's timeInterval %q differs from Prometheus's scrape_interval %q", ds.Datasources[0].JSONData.TimeInterval, pc.Global.ScrapeInterval)
	}
}

func readPrometheusConfig(t *testing.T, pc *prometheusConfig) {
	t.Helper()
	// prometheus.yml has more fields than prometheusConfig; promtool checks
	// it whole (TestPrometheusConfigAndRulesPassPromtool).
	b, err := os.ReadFile("compose/prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, pc); err != nil {
		t.Fatalf("prometheus.yml: %v", err)
	}
}

// TestPrometheusConfigAndRulesPassPromtool runs Prometheus's own checks on
// the quickstart's Prometheus configuration (which checks the rule files it
// loads) and on the rules, and amtool's on the Alertmanager configuration.
func TestPrometheusConfigAndRulesPassPromtool(t *testing.T) {
	promtool := testenv.Program(t, "promtool", "prometheus")
	files, err := filepath.Glob("compose/prometheus/rules/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files in compose/prometheus/rules (%v); the configuration would load none", err)
	}
	for _, args := range [][]string{
		{"check", "config", "compose/prometheus/prometheus.yml"},
		append([]string{"check", "rules"}, files...),
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		} else if args[1] == "config" && !bytes.Contains(out, []byte("okrd.rules.yml")) {
			t.Errorf("promtool check config did not check the rules file:\n%s", out)
		}
	}
	amtool := testenv.Program(t, "amtool", "prometheus-alertmanager")
	if out, err := exec.Command(amtool, "check-config", "compose/alertmanager/alertmanager.yml").CombinedOutput(); err != nil {
		t.Errorf("amtool check-config: %v\n%s", err, out)
	}
}

// TestAlertmanagerHasOkrdsInhibitRules keeps the quickstart's Alertmanager
// in step with the inhibit rules okrd ships (rules.InhibitRules), which hold
// back the lesser alerts of a key result while a worse one fires.
func TestAlertmanagerHasOkrdsInhibitRules(t *testing.T) {
	var am struct {
		InhibitRules []rules.InhibitRule `json:"inhibit_rules"`
	}
	b, err := os.ReadFile("compose/alertmanager/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	// The whole file is Alertmanager's; only inhibit_rules is compared.
	if err := yaml.Unmarshal(b, &am); err != nil {
		t.Fatalf("alertmanager.yml: %v", err)
	}
	want := rules.InhibitRules()
	if len(am.InhibitRules) != len(want) {
		t.Fatalf("alertmanager.yml has %d inhibit rules, want %d: %+v", len(am.InhibitRules), len(want), want)
	}
	for i := range want {
		got := am.InhibitRules[i]
		if !slices.Equal(got.SourceMatchers, want[i].SourceMatchers) || !slices.Equal(got.TargetMatchers, want[i].TargetMatchers) ||
			!slices.Equal(got.Equal, want[i].Equal) {
			t.Errorf("inhibit rule %d is %+v, want %+v", i, got, want[i])
		}
	}
}

// demoProcess is `okrd demo` running as the compose file's okrd service
// runs it, on this machine.
type demoProcess struct {
	cmd  *exec.Cmd
	done chan error
}

// startDemo runs okrd with the given arguments and waits until the demo has
// printed what to open, which it does once its configuration is written
// and okrd listens.
func startDemo(t *testing.T, bin string, args []string) *demoProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &demoProcess{cmd: cmd, done: make(chan error, 1)}
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		announced := false
		for sc.Scan() {
			if !announced && strings.Contains(sc.Text(), "Configuration") {
				announced = true
				close(started)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		d.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-d.done
		}
	})
	select {
	case <-started:
	case err := <-d.done:
		t.Fatalf("okrd %v exited before it started: %v\n%s", args, err, stderr.String())
	case <-time.After(3 * time.Minute):
		// A safety net only: the demo starts in seconds.
		t.Fatalf("okrd %v did not start within 3 minutes\n%s", args, stderr.String())
	}
	return d
}

func (d *demoProcess) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("okrd demo stopped with %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Error("okrd demo did not stop within 2 minutes of SIGINT")
	}
}

// TestComposeCommandsRunAgainstTheDemo runs the quickstart's okrd commands
// here, with the okrd-demo volume mapped into a temporary directory: the
// okrd service's `okrd demo`, its health check, the dashboards job, whose
// output must be the three dashboards where Grafana looks, and `okrd rules`
// on the demo's configuration, whose output must be the committed rules
// file that Prometheus loads (-update rewrites it).
func TestComposeCommandsRunAgainstTheDemo(t *testing.T) {
	bin := okrdBinary(t)
	p := composeProject(t)
	volume := t.TempDir()
	// onHost maps the arguments of a service's command from its container
	// to this machine: paths on the okrd-demo volume into volume/, and the
	// listen address to a free port on loopback.
	onHost := func(s types.ServiceConfig, args []string) []string {
		m := mountOf(t, s, okrdVolume)
		out := make([]string, len(args))
		for i, a := range args {
			a = strings.ReplaceAll(a, m.Target+"/", volume+"/")
			switch {
			case strings.HasPrefix(a, "--web.listen-address="):
				a = "--web.listen-address=127.0.0.1:0"
			case i > 0 && args[i-1] == "--web.listen-address":
				a = "127.0.0.1:0"
			}
			out[i] = a
		}
		return out
	}
	okrd := service(t, p, "okrd")
	demo := startDemo(t, bin, onHost(okrd, okrd.Command))

	health := onHost(okrd, okrd.HealthCheck.Test[2:])
	if out, err := exec.Command(bin, health...).CombinedOutput(); err != nil {
		t.Errorf("the health check okrd %v fails on the demo's configuration: %v\n%s", health, err, out)
	}

	job := service(t, p, "dashboards")
	args := onHost(job, job.Command)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("okrd %v: %v\n%s", args, err, out)
	}
	out, _ := flagValue(args, "out")
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID   string `json:"uid"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal(b, &d); err != nil || d.UID+".json" != e.Name() {
			t.Errorf("%s: not a dashboard with uid %s (%v)", e.Name(), strings.TrimSuffix(e.Name(), ".json"), err)
		}
	}
	want := []string{dashboards.DeliveryUID + ".json", dashboards.HealthUID + ".json", dashboards.OverviewUID + ".json"}
	if !slices.Equal(sorted(files), sorted(want)) {
		t.Errorf("the dashboards job wrote %v, want %v", files, want)
	}

	// The rules Prometheus loads are `okrd rules` on the demo's
	// configuration. They depend on its [alerting] section, its external
	// URL and its key results' runbooks and currencies, not on the quarter,
	// so unlike the dashboards they are committed.
	demoConfig, _ := flagValue(args, "config")
	rulesOut := filepath.Join(t.TempDir(), "okrd.rules.yml")
	if out, err := exec.Command(bin, "rules", "--config", demoConfig, "--out", rulesOut).CombinedOutput(); err != nil {
		t.Fatalf("okrd rules: %v\n%s", err, out)
	}
	generated, err := os.ReadFile(rulesOut)
	if err != nil {
		t.Fatal(err)
	}
	// The header names the configuration; name it as the container sees it.
	generated = bytes.ReplaceAll(generated, []byte(volume+"/"), []byte(mountOf(t, job, okrdVolume).Target+"/"))
	// The links lead to the demo's external URL, its own address: here a
	// free port of 127.0.0.1, in the quickstart the port it publishes on
	// the host's localhost.
	cfg, err := config.Load(demoConfig)
	if err != nil {
		t.Fatal(err)
	}
	published := "http://localhost:" + okrd.Ports[0].Published + "/"
	if cfg.Server.ExternalURL == "" {
		t.Fatalf("the demo's configuration has no server.external_url")
	}
	generated = bytes.ReplaceAll(generated, []byte(cfg.Server.ExternalURL), []byte(published))
	if *update {
		if err := os.WriteFile(rulesFile, generated, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatalf("%v (go test -run TestComposeCommandsRunAgainstTheDemo -update writes it)", err)
	}
	if !bytes.Equal(committed, generated) {
		t.Errorf("%s differs from `okrd rules` on the demo's configuration; run go test -run TestComposeCommandsRunAgainstTheDemo -update in deploy/ and review the diff", rulesFile)
	}

	demo.stop(t)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
