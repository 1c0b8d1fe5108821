package proxyfleet

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/template"

	"github.com/obslink/obslink/assets"
)

// ConfigRoute is one service the proxy serves, as Config renders it:
// requests for Host on Port go to Upstream:UpstreamPort (a Route's values).
type ConfigRoute struct {
	// Name of the service, a DNS label (metrics, logs, traces).
	Name string
	// Host agents send, e.g. metrics.observability.internal.
	Host string
	// Port the proxy listens on.
	Port int
	// Upstream is the DNS name of the service's ALB: a literal, or a token
	// CloudFormation resolves at deploy (see Config.UpstreamsAtDeploy).
	Upstream string
	// UpstreamPort is the ALB listener's port.
	UpstreamPort int
	// GRPC proxies the service as gRPC (cleartext HTTP/2 from agents).
	GRPC bool
	// UpstreamTLS speaks TLS to the ALB (an ALB's gRPC listener must be HTTPS).
	UpstreamTLS bool
	// TLSPassthrough routes this service's agents' TLS connections by SNI
	// to the ALB's HTTPS listener unopened (see Config.TLSPassthrough), so
	// that plain-HTTP and passthrough routes share a fleet: it needs
	// UpstreamTLS, and no HTTP route may use its Port.
	TLSPassthrough bool
}

// UpstreamName is the name of the route's nginx upstream block.
func (r ConfigRoute) UpstreamName() string { return strings.ReplaceAll(r.Name, "-", "_") + "_upstream" }

// Config is everything the nginx configuration depends on.
type Config struct {
	Routes []ConfigRoute
	// HealthPort answers GET /healthz locally. Default: 8080.
	HealthPort int
	// Listen prefixes every listen port, e.g. "127.0.0.5:" in tests. Default: all addresses.
	Listen string
	// User the workers run as. Default: nginx (Amazon Linux). Empty string keeps nginx's default.
	User *string
	// MaxBodySize is client_max_body_size. Default: 16m.
	MaxBodySize string
	// UpstreamDir holds one <service>.conf of server lines per route, written by obslink-resolve.
	// Default: /etc/nginx/obslink-upstreams.
	UpstreamDir string
	// PidFile, ErrorLog, AccessLog and TempDir default to Amazon Linux paths.
	PidFile, ErrorLog, AccessLog, TempDir string
	// ReadyFile, when set, gates /healthz: it answers 503 until
	// obslink-selfcheck has written this file once. Default: "" (no gate).
	ReadyFile string
	// ProxyProtocol makes every listener, the health port's too, expect the
	// NLB's proxy protocol v2 header, and logs the consumer it names: the
	// agent's address, its VPC endpoint id and the consumer's name (from
	// ConsumerMap). It needs nginx >= 1.23.2 (the AWS TLV variables).
	// Default: false.
	ProxyProtocol bool
	// ConsumerMap is the file of "vpce-... name;" lines obslink-consumers
	// writes (ProxyProtocol only). Default: /etc/nginx/obslink-consumers.map.
	ConsumerMap string
	// ConsumerHeader passes the consumer's name to the ALBs in
	// X-Obslink-Consumer (ProxyProtocol only). Without it, or without
	// ProxyProtocol, the header is removed from what agents send, so it can
	// never be forged. Default: false.
	ConsumerHeader bool
	// TLSPassthrough routes the agents' TLS connections by the name they
	// ask for (SNI, read by the stream module's ssl_preread) to each route's
	// upstream without terminating them: the proxies never see plaintext,
	// and agents verify the ALB's own certificate. Every route needs
	// UpstreamTLS (its UpstreamPort is the ALB's HTTPS listener); HTTP and
	// gRPC routes may share a port; ConsumerHeader cannot be set (no
	// headers inside TLS). The http block keeps only the health port.
	// ConfigRoute.TLSPassthrough does the same for one route. Default:
	// false (HTTP routing by Host).
	TLSPassthrough bool
	// UpstreamsAtDeploy reports that the routes' Upstream names are values
	// CloudFormation substitutes at deploy (tokens): the nginx config names
	// no ALB, and the user data writes the upstreams file in plain text,
	// outside the gzipped files, where CloudFormation can fill them in.
	// Default: false (the names are literals, gzipped with the rest).
	UpstreamsAtDeploy bool
	// StreamModule is the stream module's file, loaded with load_module
	// (passthrough routes only): nginx.conf is obslink's own, so nothing else
	// loads it. Default: DefaultStreamModule (Amazon Linux 2023's
	// nginx-mod-stream). Empty string: no load_module (an nginx with the
	// module built in).
	StreamModule *string
}

// DefaultStreamModule is where Amazon Linux 2023's nginx-mod-stream (Fedora's
// packaging: --with-stream=dynamic, modules in %{_libdir}/nginx/modules)
// puts the stream module.
const DefaultStreamModule = "/usr/lib64/nginx/modules/ngx_stream_module.so"

// StreamPackage is the Amazon Linux 2023 package of the stream module,
// which the bootstrap installs with passthrough routes.
const StreamPackage = "nginx-mod-stream"

// RefusedUpstream is the upstream a TLSPassthrough connection gets when its
// name (SNI) is unknown or missing: no such upstream exists, so nginx closes
// the connection and logs `no port in upstream "<this>"` (status 500).
const RefusedUpstream = "refused-unknown-or-missing-sni"

// ConsumerHeaderName is the request header that names the consumer to the ALBs.
const ConsumerHeaderName = "X-Obslink-Consumer"

// Default values of Config.
const (
	DefaultHealthPort  = 8080
	DefaultMaxBodySize = "16m"
	DefaultUpstreamDir = "/etc/nginx/obslink-upstreams"
	DefaultConsumerMap = "/etc/nginx/obslink-consumers.map"
	DefaultResolver    = "169.254.169.253"
)

type portGroup struct {
	Port int
	GRPC bool
}

type renderData struct {
	Config
	User     string
	Services []ConfigRoute
	Ports    []portGroup
	// The passthrough routes and ports, in the stream block (the http
	// block's Services and Ports are the others), and the module to load.
	StreamServices   []ConfigRoute
	StreamPorts      []int
	StreamModulePath string
	RefusedUpstream  string
	// HashBucketSize sizes nginx's server-name and map hash buckets when a
	// key is too long for the default (64); 0 keeps the default.
	HashBucketSize int
	// ConsumerHeaderName is ConsumerHeaderName; ConsumerHeaderValue is what
	// it carries to the ALBs: the consumer's name, or "" (nginx then drops
	// the header).
	ConsumerHeaderName, ConsumerHeaderValue string
}

// passthrough reports whether r's agents' TLS goes through unopened.
func (c Config) passthrough(r ConfigRoute) bool { return c.TLSPassthrough || r.TLSPassthrough }

// NeedsStream reports whether a route passes the agents' TLS through,
// which needs nginx's stream module.
func (c Config) NeedsStream() bool {
	for _, r := range c.Routes {
		if c.passthrough(r) {
			return true
		}
	}
	return false
}

// seesRequests reports whether some route is HTTP, whose requests the
// proxies see (and can add a header to).
func (c Config) seesRequests() bool {
	for _, r := range c.Routes {
		if !c.passthrough(r) {
			return true
		}
	}
	return false
}

// Validate reports routes nginx could not serve, naming the route and the fix.
func (c Config) Validate() error {
	if len(c.Routes) == 0 {
		return fmt.Errorf("no routes: give at least one service")
	}
	health := c.withDefaults().HealthPort
	seen := map[string]bool{}
	type portUse struct{ grpc, passthrough bool }
	ports := map[int]portUse{}
	for _, r := range c.Routes {
		pass := c.passthrough(r)
		switch {
		case r.Name == "" || r.Host == "" || r.Upstream == "":
			return fmt.Errorf("route %+v: Name, Host and Upstream are required", r)
		case r.Port < 1 || r.Port > 65535 || r.UpstreamPort < 1 || r.UpstreamPort > 65535:
			return fmt.Errorf("route %s: ports %d/%d must be 1-65535", r.Name, r.Port, r.UpstreamPort)
		case r.Port == health:
			return fmt.Errorf("route %s: port %d is the health-check port; pick another port", r.Name, r.Port)
		case seen[r.Host]:
			return fmt.Errorf("route %s: host %s is routed twice", r.Name, r.Host)
		}
		if u, ok := ports[r.Port]; ok && u.passthrough != pass {
			return fmt.Errorf("route %s: port %d mixes TLSPassthrough and HTTP routes (nginx's stream and http blocks cannot share a port); give them different ports", r.Name, r.Port)
		} else if ok && u.grpc != r.GRPC && !pass {
			return fmt.Errorf("route %s: port %d mixes gRPC and HTTP routes; give gRPC its own port", r.Name, r.Port)
		}
		if pass && !r.UpstreamTLS {
			return fmt.Errorf("route %s: TLSPassthrough forwards the agents' TLS unopened, so UpstreamPort %d must be the ALB's HTTPS listener; set UpstreamTLS", r.Name, r.UpstreamPort)
		}
		seen[r.Host] = true
		ports[r.Port] = portUse{r.GRPC, pass}
	}
	if c.ConsumerHeader && !c.seesRequests() {
		return fmt.Errorf("ConsumerHeader with TLSPassthrough: the proxies never see the requests inside the agents' TLS, so they cannot add a header; turn one off")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.HealthPort == 0 {
		c.HealthPort = DefaultHealthPort
	}
	if c.MaxBodySize == "" {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.UpstreamDir == "" {
		c.UpstreamDir = DefaultUpstreamDir
	}
	if c.PidFile == "" {
		c.PidFile = "/run/nginx.pid"
	}
	if c.ErrorLog == "" {
		c.ErrorLog = "/var/log/nginx/error.log"
	}
	if c.AccessLog == "" {
		c.AccessLog = "/var/log/nginx/access.log"
	}
	if c.TempDir == "" {
		c.TempDir = "/var/lib/nginx/tmp"
	}
	if c.ConsumerMap == "" {
		c.ConsumerMap = DefaultConsumerMap
	}
	if c.StreamModule == nil {
		m := DefaultStreamModule
		c.StreamModule = &m
	}
	return c
}

// Render returns nginx.conf for c, from assets/nginx/nginx.conf.tmpl.
func (c Config) Render() (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	c = c.withDefaults()
	d := renderData{Config: c, User: "nginx", ConsumerHeaderName: ConsumerHeaderName, ConsumerHeaderValue: `""`,
		RefusedUpstream: RefusedUpstream}
	if c.ProxyProtocol && c.ConsumerHeader {
		d.ConsumerHeaderValue = "$obslink_consumer"
	}
	if c.User != nil {
		d.User = *c.User
	}
	// Passthrough routes go to the stream block, the others to the http
	// block, which also keeps the health port.
	ports := map[int]bool{}
	for _, r := range c.Routes {
		if c.passthrough(r) {
			d.StreamServices = append(d.StreamServices, r)
			if !ports[r.Port] {
				d.StreamPorts = append(d.StreamPorts, r.Port)
			}
		} else {
			d.Services = append(d.Services, r)
			if !ports[r.Port] {
				d.Ports = append(d.Ports, portGroup{Port: r.Port, GRPC: r.GRPC})
			}
		}
		ports[r.Port] = true
	}
	sort.Slice(d.Ports, func(i, j int) bool { return d.Ports[i].Port < d.Ports[j].Port })
	sort.Ints(d.StreamPorts)
	if len(d.StreamServices) > 0 {
		d.StreamModulePath = *c.StreamModule
	}
	d.HashBucketSize = hashBucketSize(c)
	return execute("nginx/nginx.conf.tmpl", d)
}

// hashBucketSize is the hash bucket size nginx needs for the routes' keys:
// host names (server_name, map $host) and, with TLS passthrough, the
// stream map's "<port>:<host>". nginx's default of 64 holds keys of up to
// about 46 bytes (a bucket also stores a length and a pointer per key):
// longer ones need the next power of two above the key plus that overhead,
// or nginx refuses the config ("could not build map_hash"). 0: the default
// does.
func hashBucketSize(c Config) int {
	longest := 0
	for _, r := range c.Routes {
		n := len(r.Host)
		if c.passthrough(r) {
			n += len(fmt.Sprint(r.Port)) + 1
		}
		longest = max(longest, n)
	}
	const overhead = 18
	if longest+overhead <= 64 {
		return 0
	}
	size := 128
	for size < longest+overhead {
		size *= 2
	}
	return size
}

// TLSRoutes is what obslink-selfcheck reads to check each passthrough
// route through the proxy: one "<service> <host> <port>" line per route
// (the name agents send as SNI, the port they connect to); "" without
// passthrough routes.
func (c Config) TLSRoutes() string {
	var b strings.Builder
	for _, r := range c.Routes {
		if c.passthrough(r) {
			fmt.Fprintf(&b, "%s %s %d\n", r.Name, r.Host, r.Port)
		}
	}
	return b.String()
}

// Upstreams returns the obslink-resolve input: one "<service> <host> <port>" line per route.
func (c Config) Upstreams() string {
	var b strings.Builder
	for _, r := range c.Routes {
		fmt.Fprintf(&b, "%s %s %d\n", r.Name, r.Upstream, r.UpstreamPort)
	}
	return b.String()
}

// SelfCheckScript returns obslink-selfcheck, the bootstrap's last check;
// its TLS handshakes through the proxy only with passthrough routes.
func (c Config) SelfCheckScript() string {
	const name = "nginx/obslink-selfcheck.sh"
	return stripComments(name, section(asset(name), "tls-passthrough", c.NeedsStream()))
}

// ConsumersScript returns obslink-consumers, which maps VPC endpoint ids to consumer names.
func ConsumersScript() string { return script("nginx/obslink-consumers.sh") }

// ResolveScript returns obslink-resolve, the loop that keeps upstream addresses current.
func ResolveScript() string { return script("nginx/obslink-resolve.sh") }

// UserDataInput is what the bootstrap script needs besides the nginx config.
type UserDataInput struct {
	// Resolver is the DNS server obslink-resolve asks. Default: the VPC resolver, 169.254.169.253.
	Resolver string
	// ResolveInterval is the seconds between lookups. Default: 10.
	ResolveInterval int
	// AccessLogGroup and ErrorLogGroup are the CloudWatch Logs groups the
	// CloudWatch agent ships nginx's logs to. Default: "" (no agent).
	AccessLogGroup, ErrorLogGroup string
	// SignalStack, SignalResource and SignalRegion name the Auto Scaling
	// group the bootstrap signals (cfn-signal) after its self-check.
	// Default: "" (no signal).
	SignalStack, SignalResource, SignalRegion string
	// ConsumerParameters is the SSM path of the consumer table that
	// obslink-consumers joins with the endpoint connections (the config's
	// ProxyProtocol only; it needs SignalRegion). Default: "" (no map).
	ConsumerParameters string
	// FilesPath is the SSM path under which the files script's parameters
	// live (Bootstrap.Parameters), fetched in SignalRegion; with no
	// SignalRegion the user data names no region and the AWS CLI needs one
	// of its own (AWS_REGION or its configuration): NginxProxyFleet always
	// sets it. Default: DefaultFilesPath.
	FilesPath string
}

// MallocTunables is glibc's malloc configuration for nginx (GLIBC_TUNABLES,
// honoured by glibc 2.26 and newer; Amazon Linux 2023 has 2.34). By default
// glibc serves a 1 MiB request-body buffer with mmap and returns it to the
// kernel when it is freed, so the next large body page-faults it back in;
// raising the mmap threshold to 4 MiB keeps it on the heap, and raising the
// trim threshold to 64 MiB keeps freed heap memory for the next request
// (TestMallocTunablesKeepLargeBodiesOnTheHeap: minor faults per 1 MiB
// request about 220 without, about 1 with, under concurrency). nginx's workers
// are forked from the master, so they inherit it.
const MallocTunables = "glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=67108864"

// DefaultReadyFile is where obslink-selfcheck marks an instance ready.
const DefaultReadyFile = "/etc/obslink/ready"

// AgentConfig is the CloudWatch agent's configuration: nginx's access and
// error logs to their groups, one stream per instance.
func (c Config) AgentConfig(accessGroup, errorGroup string) string {
	c = c.withDefaults()
	file := func(path, group string) map[string]any {
		return map[string]any{"file_path": path, "log_group_name": group, "log_stream_name": "{instance_id}"}
	}
	cfg := map[string]any{
		"agent": map[string]any{"run_as_user": "root", "logfile": "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log"},
		"logs": map[string]any{"logs_collected": map[string]any{"files": map[string]any{"collect_list": []any{
			file(c.AccessLog, accessGroup), file(c.ErrorLog, errorGroup),
		}}}},
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return string(b) + "\n"
}

// Logrotate is the logrotate configuration for nginx's logs (by size).
func Logrotate() string { return asset("nginx/logrotate.conf") }

// script returns an embedded shell script as the instances get it: its
// comment lines dropped (they would cost about 1 KiB a script in the files'
// parameters), the shebang and shellcheck directives kept, and a line
// naming the source.
// Tests run this text, not the commented file.
func script(name string) string { return stripComments(name, asset(name)) }

// stripComments is script's work on the text of the script name.
func stripComments(name, text string) string {
	lines := strings.SplitAfter(text, "\n")
	var b strings.Builder
	b.WriteString(lines[0])
	b.WriteString("# obslink " + name + " (github.com/obslink/obslink assets/), comments stripped\n")
	for _, l := range lines[1:] {
		if t := strings.TrimSpace(l); !strings.HasPrefix(t, "#") || strings.HasPrefix(t, "# shellcheck ") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// section keeps or drops the lines between "# <name> {" and "# <name> }"
// (those marker lines always go): a part of a script that only some fleets
// ship, so that the others' user data does not change.
func section(text, name string, keep bool) string {
	var b strings.Builder
	in := false
	for _, l := range strings.SplitAfter(text, "\n") {
		switch strings.TrimSpace(l) {
		case "# " + name + " {":
			in = true
			continue
		case "# " + name + " }":
			in = false
			continue
		}
		if keep || !in {
			b.WriteString(l)
		}
	}
	return b.String()
}

// asset returns an embedded file; they are embedded at build time.
func asset(name string) string {
	b, err := assets.FS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Bootstrap is what an instance runs at boot: the user data, and the
// script of files it fetches from SSM parameters.
type Bootstrap struct {
	// UserData is the script EC2 runs at boot, from
	// assets/userdata/proxy.sh.tmpl: it installs the packages, fetches the
	// files script from the parameters, checks its SHA-256, runs it, starts
	// nginx and runs the self-check.
	UserData string
	// Files is the files script, from assets/userdata/files.sh.tmpl: it
	// writes nginx's config, the scripts, their settings and units.
	Files string
	// Hash is the SHA-256 of the gzipped Files (hex), which the user data
	// checks.
	Hash string
	// Parameters hold the gzipped Files, base64-encoded, in chunks of at
	// most MaxParameterChars under <FilesPath>/<first 16 hex digits of
	// Hash>/: a change of the files changes their names and the user data.
	Parameters []Parameter
}

// Parameter is one SSM parameter: its name and value.
type Parameter struct{ Name, Value string }

// ReadFiles returns the files script the parameters of a Bootstrap hold, as
// the user data reads them: in the order of their names, base64-decoded,
// gunzipped.
func ReadFiles(params []Parameter) (string, error) {
	sorted := append([]Parameter(nil), params...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var b strings.Builder
	for _, p := range sorted {
		b.WriteString(p.Value)
	}
	gz, err := base64.StdEncoding.DecodeString(b.String())
	if err != nil {
		return "", fmt.Errorf("the files' parameters are not base64: %w", err)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return "", fmt.Errorf("the files' parameters are not gzipped: %w", err)
	}
	files, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("the files' parameters are not gzipped: %w", err)
	}
	return string(files), nil
}

// DefaultFilesPath is where Bootstrap keeps the files when
// UserDataInput.FilesPath is empty.
const DefaultFilesPath = "/obslink/files"

// Bootstrap renders the instance bootstrap.
func (c Config) Bootstrap(in UserDataInput) (Bootstrap, error) {
	conf, err := c.Render()
	if err != nil {
		return Bootstrap{}, err
	}
	c = c.withDefaults()
	if in.Resolver == "" {
		in.Resolver = DefaultResolver
	}
	if in.ResolveInterval == 0 {
		in.ResolveInterval = 10
	}
	if in.FilesPath == "" {
		in.FilesPath = DefaultFilesPath
	}
	readyFile := c.ReadyFile
	if readyFile == "" {
		readyFile = DefaultReadyFile
	}
	agent := ""
	if in.AccessLogGroup != "" {
		agent = c.AgentConfig(in.AccessLogGroup, in.ErrorLogGroup)
	}
	consumers := ""
	if c.ProxyProtocol && in.ConsumerParameters != "" {
		consumers = ConsumersScript()
	}
	streamPackage, tlsRoutes := "", ""
	if c.NeedsStream() {
		streamPackage, tlsRoutes = StreamPackage, c.TLSRoutes()
	}
	upstreams, upstreamsPlain := c.Upstreams(), ""
	if c.UpstreamsAtDeploy { // tokens: CloudFormation fills them in, in the user data
		upstreams, upstreamsPlain = "", c.Upstreams()
	}
	files, err := execute("userdata/files.sh.tmpl", map[string]any{
		"NginxConf":          conf,
		"ResolveScript":      ResolveScript(),
		"SelfCheckScript":    c.SelfCheckScript(),
		"Upstreams":          upstreams,
		"TLSRoutes":          tlsRoutes,
		"ConsumersScript":    consumers,
		"ConsumerParameters": in.ConsumerParameters,
		"ConsumerMap":        c.ConsumerMap,
		"Region":             in.SignalRegion,
		"Logrotate":          Logrotate(),
		"AgentConfig":        agent,
		"MallocTunables":     MallocTunables,
		"ProxyProtocol":      c.ProxyProtocol,
		"Resolver":           in.Resolver,
		"ResolveInterval":    in.ResolveInterval,
		"HealthPort":         c.HealthPort,
		"UpstreamDir":        c.UpstreamDir,
		"TempDir":            c.TempDir,
		"ReadyFile":          readyFile,
	})
	if err != nil {
		return Bootstrap{}, err
	}
	b := Bootstrap{Files: files}
	gz := Gzip(files)
	sum := sha256.Sum256(gz)
	b.Hash = hex.EncodeToString(sum[:])
	path := strings.TrimSuffix(in.FilesPath, "/") + "/" + b.Hash[:16]
	encoded := base64.StdEncoding.EncodeToString(gz)
	for i := 0; len(encoded) > 0; i++ {
		n := min(len(encoded), MaxParameterChars)
		b.Parameters = append(b.Parameters, Parameter{Name: fmt.Sprintf("%s/%02d", path, i), Value: encoded[:n]})
		encoded = encoded[n:]
	}
	if len(b.Parameters) > 100 {
		return Bootstrap{}, fmt.Errorf("the proxies' files take %d parameters of %d characters, over the 100 the names hold; use fewer services", len(b.Parameters), MaxParameterChars)
	}
	b.UserData, err = execute("userdata/proxy.sh.tmpl", map[string]any{
		"UpstreamsPlain": upstreamsPlain,
		"StreamPackage":  streamPackage,
		"Agent":          agent != "",
		"Consumers":      consumers != "",
		"FilesPath":      path,
		"FilesHash":      b.Hash,
		"ReadyFile":      readyFile,
		"SignalStack":    in.SignalStack,
		"SignalResource": in.SignalResource,
		"SignalRegion":   in.SignalRegion,
	})
	if err == nil && len(b.UserData) > MaxUserData {
		err = fmt.Errorf("user data is %d bytes, over EC2's limit of %d; use fewer services", len(b.UserData), MaxUserData)
	}
	return b, err
}

// MaxUserData is EC2's limit on user data before base64 encoding.
const MaxUserData = 16 << 10

// Gzip compresses s deterministically (no name, no timestamp), as the
// files' parameters carry them.
func Gzip(s string) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

func execute(name string, data any) (string, error) {
	src, err := assets.FS.ReadFile(name)
	if err != nil {
		return "", err
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(template.FuncMap{"file": heredoc}).Parse(string(src))
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", name, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return out.String(), nil
}

// heredocEnd ends every heredoc of the scripts.
const heredocEnd = "OBSLINK_EOF"

// heredoc is the shell that writes content to path: a quoted heredoc, so
// the shell expands nothing in it. content ends with a newline and has no
// line heredocEnd.
func heredoc(path, content string) (string, error) {
	if !strings.HasSuffix(content, "\n") || strings.Contains("\n"+content, "\n"+heredocEnd+"\n") {
		return "", fmt.Errorf("%s cannot be written by a heredoc: it must end with a newline and hold no line %s", path, heredocEnd)
	}
	return "cat >" + path + " <<'" + heredocEnd + "'\n" + content + heredocEnd + "\n", nil
}
