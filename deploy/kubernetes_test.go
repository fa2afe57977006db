package deploy

import (
	"fmt"
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

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	// Every built-in source type, as in the okrd binary.
	_ "github.com/okrd/okrd/collectors/all"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/testenv"
)

const kubernetesDir = "kubernetes"

// kubeTypes are the kinds the manifests may hold, each with the Go type of
// its API: the Kubernetes API's own types (k8s.io/api) and the Prometheus
// Operator's (monitoring.coreos.com/v1).
var kubeTypes = map[string]func() any{
	"v1/Namespace":                  func() any { return new(corev1.Namespace) },
	"v1/ServiceAccount":             func() any { return new(corev1.ServiceAccount) },
	"v1/ConfigMap":                  func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                     func() any { return new(corev1.Secret) },
	"v1/Service":                    func() any { return new(corev1.Service) },
	"apps/v1/Deployment":            func() any { return new(appsv1.Deployment) },
	"policy/v1/PodDisruptionBudget": func() any { return new(policyv1.PodDisruptionBudget) },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return new(monitoringv1.ServiceMonitor) },
	"monitoring.coreos.com/v1/PodMonitor":     func() any { return new(monitoringv1.PodMonitor) },
}

// decodeManifest decodes one manifest into the Go type of its apiVersion
// and kind, strictly: a field the API does not have, a field given twice or
// a value of the wrong type (a quantity that does not parse, a string for a
// number) is an error, as the API server's strict field validation makes it.
func decodeManifest(doc []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	newObj, ok := kubeTypes[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("unexpected kind %s %s", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return obj, nil
}

// rendered is what `kubectl kustomize` makes of deploy/kubernetes.
type rendered struct {
	namespace      *corev1.Namespace
	serviceAccount *corev1.ServiceAccount
	configMap      *corev1.ConfigMap
	secret         *corev1.Secret
	service        *corev1.Service
	deployment     *appsv1.Deployment
	pdb            *policyv1.PodDisruptionBudget
	serviceMonitor *monitoringv1.ServiceMonitor
}

// render runs `kubectl kustomize deploy/kubernetes` (no cluster needed) and
// decodes every object it prints.
func render(t *testing.T) rendered {
	t.Helper()
	kubectl := testenv.Program(t, "kubectl", "kubectl")
	out, err := exec.Command(kubectl, "kustomize", kubernetesDir).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("kubectl kustomize %s: %v\n%s", kubernetesDir, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var r rendered
	seen := map[string]int{}
	for _, doc := range splitDocuments(out) {
		obj, err := decodeManifest(doc)
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v\n%s", kubernetesDir, err, doc)
		}
		seen[fmt.Sprintf("%T", obj)]++
		switch o := obj.(type) {
		case *corev1.Namespace:
			r.namespace = o
		case *corev1.ServiceAccount:
			r.serviceAccount = o
		case *corev1.ConfigMap:
			r.configMap = o
		case *corev1.Secret:
			r.secret = o
		case *corev1.Service:
			r.service = o
		case *appsv1.Deployment:
			r.deployment = o
		case *policyv1.PodDisruptionBudget:
			r.pdb = o
		case *monitoringv1.ServiceMonitor:
			r.serviceMonitor = o
		default:
			t.Errorf("kubectl kustomize %s: a %T is not expected", kubernetesDir, o)
		}
	}
	for typ, n := range seen {
		if n != 1 {
			t.Errorf("kubectl kustomize %s: %d objects of type %s, want one", kubernetesDir, n, typ)
		}
	}
	if r.namespace == nil || r.serviceAccount == nil || r.configMap == nil || r.secret == nil || r.service == nil ||
		r.deployment == nil || r.pdb == nil || r.serviceMonitor == nil {
		t.Fatalf("kubectl kustomize %s lacks an object: %v", kubernetesDir, seen)
	}
	return r
}

// TestManifestsDecodeStrictlyIntoTheirAPITypes decodes every manifest file
// of deploy/kubernetes (podmonitor.yaml, which the kustomization leaves
// out, included), and shows that the decoding rejects what the API does not
// accept.
func TestManifestsDecodeStrictlyIntoTheirAPITypes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(kubernetesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range splitDocuments(b) {
			if _, err := decodeManifest(doc); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			n++
		}
	}
	if n < 8 {
		t.Errorf("decoded %d manifests in %s, want the 8 of the kit", n, kubernetesDir)
	}

	for _, tc := range []struct{ name, doc string }{
		{"a misspelt Deployment field", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: okrd}\nspec:\n  replica: 2\n"},
		{"a memory limit that is not a quantity", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: okrd}\nspec:\n  template:\n    spec:\n      containers:\n        - name: okrd\n          resources: {limits: {memory: lots}}\n"},
		{"a misspelt ServiceMonitor field", "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: okrd}\nspec:\n  endpoint: [{port: http}]\n"},
		{"a field given twice", "apiVersion: v1\nkind: Service\nmetadata: {name: okrd}\nspec:\n  type: ClusterIP\n  type: NodePort\n"},
		{"an unknown kind", "apiVersion: v1\nkind: Pdo\nmetadata: {name: okrd}\n"},
	} {
		t.Run("decoding rejects "+tc.name, func(t *testing.T) {
			if _, err := decodeManifest([]byte(tc.doc)); err == nil {
				t.Errorf("decoded a manifest with %s", tc.name)
			} else {
				t.Logf("rejected: %v", err)
			}
		})
	}
}

func ptrString[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func selects(t *testing.T, sel *metav1.LabelSelector, lbls map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("selector %v: %v", sel, err)
		return false
	}
	return !s.Empty() && s.Matches(labels.Set(lbls))
}

// TestKustomizationRendersTwoHardenedReplicasOnPostgreSQL renders the
// kustomization and checks what the kit promises: two replicas, probes on
// /-/healthy and /-/ready, a hardened pod that meets the restricted Pod
// Security Standard, resources, a disruption budget, and Service,
// ServiceMonitor and budget selecting the pods.
func TestKustomizationRendersTwoHardenedReplicasOnPostgreSQL(t *testing.T) {
	r := render(t)
	d := r.deployment
	pod := d.Spec.Template
	podLabels := pod.Labels

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Fatalf("replicas %v, want 2", ptrString(d.Spec.Replicas))
	}
	if !selects(t, d.Spec.Selector, podLabels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", d.Spec.Selector, podLabels)
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rolling update %+v, want maxUnavailable 0", ru)
	}
	for _, obj := range []metav1.ObjectMeta{r.serviceAccount.ObjectMeta, r.configMap.ObjectMeta, r.secret.ObjectMeta,
		r.service.ObjectMeta, d.ObjectMeta, r.pdb.ObjectMeta, r.serviceMonitor.ObjectMeta} {
		if obj.Namespace != r.namespace.Name {
			t.Errorf("%s is in namespace %q, want %q", obj.Name, obj.Namespace, r.namespace.Name)
		}
		for _, msg := range validation.IsDNS1123Subdomain(obj.Name) {
			t.Errorf("name %q: %s", obj.Name, msg)
		}
	}
	if r.namespace.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels %v, want pod-security.kubernetes.io/enforce: restricted", r.namespace.Labels)
	}

	// The pod: its own service account without a token, non-root, seccomp.
	ps := pod.Spec
	if ps.ServiceAccountName != r.serviceAccount.Name {
		t.Errorf("serviceAccountName %q, want %q", ps.ServiceAccountName, r.serviceAccount.Name)
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken ||
		r.serviceAccount.AutomountServiceAccountToken == nil || *r.serviceAccount.AutomountServiceAccountToken {
		t.Error("the service account token must not be mounted (okrd does not use the Kubernetes API)")
	}
	if ps.HostNetwork || ps.HostPID || ps.HostIPC {
		t.Error("the pod shares a host namespace")
	}
	psc := ps.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v, want runAsNonRoot, a non-zero runAsUser and seccomp RuntimeDefault", psc)
	}
	for _, v := range ps.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s is a hostPath", v.Name)
		}
	}
	if len(ps.Containers) != 1 || len(ps.InitContainers) != 0 {
		t.Fatalf("want one container, have %d (and %d init containers)", len(ps.Containers), len(ps.InitContainers))
	}
	c := ps.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Privileged != nil && *sc.Privileged ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("container securityContext %+v, want no privilege escalation, a read-only root filesystem and every capability dropped", sc)
	}
	if c.Image == "" || strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
		t.Errorf("image %q: want a tag (kustomization.yaml's images)", c.Image)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("no %s request", res)
		}
	}
	if lim, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || lim.Cmp(c.Resources.Requests[corev1.ResourceMemory]) < 0 {
		t.Errorf("memory limit %v, want one at least the request", lim)
	}

	// The port and the probes.
	if len(c.Ports) != 1 {
		t.Fatalf("container ports %+v, want one", c.Ports)
	}
	port := c.Ports[0]
	for _, p := range []struct {
		name, path string
		probe      *corev1.Probe
	}{{"livenessProbe", "/-/healthy", c.LivenessProbe}, {"readinessProbe", "/-/ready", c.ReadinessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path ||
			p.probe.HTTPGet.Port != intstr.FromString(port.Name) {
			t.Errorf("%s %+v, want GET %s on port %s", p.name, p.probe, p.path, port.Name)
		}
	}

	// The Service, the ServiceMonitor and the budget select the pods.
	if !selects(t, &metav1.LabelSelector{MatchLabels: r.service.Spec.Selector}, podLabels) {
		t.Errorf("the Service's selector %v does not select the pods %v", r.service.Spec.Selector, podLabels)
	}
	if len(r.service.Spec.Ports) != 1 || r.service.Spec.Ports[0].TargetPort != intstr.FromString(port.Name) {
		t.Errorf("Service ports %+v, want one to the container port %s", r.service.Spec.Ports, port.Name)
	}
	if !selects(t, r.pdb.Spec.Selector, podLabels) {
		t.Errorf("the PodDisruptionBudget's selector %v does not select the pods %v", r.pdb.Spec.Selector, podLabels)
	}
	if m := r.pdb.Spec.MinAvailable; m == nil || m.IntValue() < 1 || m.IntValue() >= int(*d.Spec.Replicas) {
		t.Errorf("PodDisruptionBudget minAvailable %v, want at least 1 and fewer than the replicas (so a node can drain)", m)
	}
	sm := r.serviceMonitor.Spec
	if !selects(t, &sm.Selector, r.service.Labels) {
		t.Errorf("the ServiceMonitor's selector %v does not select the Service %v", sm.Selector, r.service.Labels)
	}
	if len(sm.Endpoints) != 1 || sm.Endpoints[0].Port != r.service.Spec.Ports[0].Name || sm.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v, want /metrics on the Service port %s", sm.Endpoints, r.service.Spec.Ports[0].Name)
	} else {
		checkScrapeTimes(t, "ServiceMonitor", sm.Endpoints[0].Interval, sm.Endpoints[0].ScrapeTimeout)
	}

	// The PodMonitor, the alternative, selects the pods and their port.
	var pm monitoringv1.PodMonitor
	readYAML(t, filepath.Join(kubernetesDir, "podmonitor.yaml"), &pm)
	if !selects(t, &pm.Spec.Selector, podLabels) {
		t.Errorf("the PodMonitor's selector %v does not select the pods %v", pm.Spec.Selector, podLabels)
	}
	if eps := pm.Spec.PodMetricsEndpoints; len(eps) != 1 || eps[0].Port == nil || *eps[0].Port != port.Name || eps[0].Path != "/metrics" {
		t.Errorf("PodMonitor endpoints %+v, want /metrics on the container port %s", eps, port.Name)
	} else {
		checkScrapeTimes(t, "PodMonitor", eps[0].Interval, eps[0].ScrapeTimeout)
	}
}

// checkScrapeTimes checks what the Prometheus Operator's CRDs validate of
// an endpoint's interval and timeout: Prometheus durations, the timeout no
// longer than the interval.
func checkScrapeTimes(t *testing.T, kind string, interval, timeout monitoringv1.Duration) {
	t.Helper()
	i, err := model.ParseDuration(string(interval))
	if err != nil {
		t.Errorf("%s interval: %v", kind, err)
	}
	to, err := model.ParseDuration(string(timeout))
	if err != nil {
		t.Errorf("%s scrapeTimeout: %v", kind, err)
	}
	if time.Duration(to) > time.Duration(i) {
		t.Errorf("%s scrapeTimeout %s exceeds the interval %s", kind, timeout, interval)
	}
}

// envReference is a ${NAME} reference of okrd's configuration.
var envReference = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// withoutComments drops the comment lines of a TOML file.
func withoutComments(toml string) string {
	var b strings.Builder
	for _, line := range strings.Split(toml, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestConfigMapIsAValidConfigurationOnPostgreSQLWithSecretsFromTheSecret
// loads the rendered ConfigMap's okrd.toml with okrd's own configuration
// loader, in the environment the pod gets from the Secret, and checks that
// it runs on PostgreSQL, listens on the container's port, takes every
// secret from the Secret through ${NAME}, and that the Secret holds
// placeholders only.
func TestConfigMapIsAValidConfigurationOnPostgreSQLWithSecretsFromTheSecret(t *testing.T) {
	r := render(t)
	ps := r.deployment.Spec.Template.Spec
	c := ps.Containers[0]

	// The container reads the ConfigMap's okrd.toml where --config points.
	configFile := ""
	for i, a := range c.Args {
		if a == "--config" && i+1 < len(c.Args) {
			configFile = c.Args[i+1]
		}
	}
	if len(c.Args) == 0 || c.Args[0] != "run" || configFile == "" {
		t.Fatalf("container args %v, want run --config FILE", c.Args)
	}
	var volume string
	for _, m := range c.VolumeMounts {
		if m.MountPath == path.Dir(configFile) {
			volume = m.Name
			if !m.ReadOnly {
				t.Errorf("the configuration is mounted writable at %s", m.MountPath)
			}
		}
	}
	mounted := false
	for _, v := range ps.Volumes {
		if v.Name == volume && v.ConfigMap != nil && v.ConfigMap.Name == r.configMap.Name {
			for _, it := range v.ConfigMap.Items {
				mounted = mounted || it.Key == "okrd.toml" && it.Path == path.Base(configFile)
			}
		}
	}
	if !mounted {
		t.Fatalf("%s is not the key okrd.toml of ConfigMap %s", configFile, r.configMap.Name)
	}
	toml, ok := r.configMap.Data["okrd.toml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no okrd.toml", r.configMap.Name)
	}

	// The environment the pod gets from the Secret.
	fromSecret := false
	for _, ef := range c.EnvFrom {
		fromSecret = fromSecret || ef.SecretRef != nil && ef.SecretRef.Name == r.secret.Name
	}
	if !fromSecret {
		t.Fatalf("the container does not take its environment from Secret %s", r.secret.Name)
	}
	if len(r.secret.Data) > 0 {
		t.Errorf("Secret %s has base64 data; keep the placeholders readable in stringData", r.secret.Name)
	}
	for k, v := range r.secret.StringData {
		if v != "REPLACE_ME" {
			t.Errorf("Secret %s: %s is %q; the kit holds placeholders only (REPLACE_ME)", r.secret.Name, k, v)
		}
	}
	refs := map[string]bool{}
	for _, m := range envReference.FindAllStringSubmatch(withoutComments(toml), -1) {
		refs[m[1]] = true
		if _, ok := r.secret.StringData[m[1]]; !ok {
			t.Errorf("okrd.toml references ${%s}, which Secret %s does not set", m[1], r.secret.Name)
		}
	}
	for k := range r.secret.StringData {
		if !refs[k] {
			t.Errorf("Secret %s sets %s, which okrd.toml does not reference", r.secret.Name, k)
		}
	}
	if len(refs) == 0 {
		t.Error("okrd.toml references no secret")
	}
	for _, e := range c.Env {
		if e.Value != "" && secretName.MatchString(e.Name) {
			t.Errorf("environment variable %s has a literal value; secrets come from the Secret", e.Name)
		}
	}

	file := filepath.Join(t.TempDir(), "okrd.toml")
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	for k := range r.secret.StringData {
		t.Setenv(k, "placeholder-"+strings.ToLower(k))
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatalf("okrd.toml of ConfigMap %s: %v", r.configMap.Name, err)
	}
	if cfg.Storage.Driver != "postgres" {
		t.Errorf("storage.driver %q: replicas share one store only on postgres", cfg.Storage.Driver)
	}
	_, port, err := net.SplitHostPort(cfg.Server.ListenAddress)
	if err != nil {
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(cfg.Server.ListenAddress); host != "" && host != "0.0.0.0" && host != "::" {
		t.Errorf("server.listen_address %q: the probes and the Service reach the pod's address, not loopback", cfg.Server.ListenAddress)
	}
	if port != strconv.Itoa(int(c.Ports[0].ContainerPort)) {
		t.Errorf("server.listen_address %q, but the container port is %d", cfg.Server.ListenAddress, c.Ports[0].ContainerPort)
	}
}
