package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/bbsmail/bbsmail/admin"
	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/guard"
	"github.com/bbsmail/bbsmail/mailproc"
	"github.com/bbsmail/bbsmail/netutil"
	"github.com/bbsmail/bbsmail/pop3d"
	"github.com/bbsmail/bbsmail/smtpd"
	"github.com/bbsmail/bbsmail/store"
)

// server is one running mail server: the servers, the mailbase and the
// configuration snapshot they share.
type server struct {
	dir   string
	log   *slog.Logger
	level *slog.LevelVar

	mu      sync.Mutex // guards cfg swaps
	cfg     *ctrl.Config
	tls     *tls.Config
	started time.Time

	db       *store.DB
	resolver *swapResolver
	// guard counts failed logins and requests for both servers; it lives
	// as long as the process, across reloads.
	guard *guard.Guard
	// procs are mailproc.ini's processors, swapped by a reload.
	procs *processors
	// dkim signs outbound copies; a reload swaps its keys.
	dkim *signer
	// auth judges SPF, DKIM and DMARC of inbound mail.
	auth *authCheck
	smtp *smtpd.Server
	pop  *pop3d.Server
	// ctx is the server's lifetime, for what a recycle restarts.
	ctx context.Context
	// sendMail runs the SendMail queue; a recycle may restart it.
	sendMail *sendMailRunner
	// netmail exports and tosses FidoNet and QWK netmail.
	netmail *netmailRunner

	listeners []net.Listener
	// gate holds new connections back while the pause semaphore exists.
	gate netutil.Gate
	wg   sync.WaitGroup

	notify  *notifier // systemd's NOTIFY_SOCKET; a no-op without it
	metrics *metrics  // for the metrics endpoint and `bbsmail status`
}

func (s *server) config() *ctrl.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// killReadMail reports main.ini "Kill Read E-mail" of the configuration
// in force.
func (s *server) killReadMail() bool { return s.config().System.KillReadMail() }

func serveCmd(dir string, stderr io.Writer) int {
	if err := serve(dir, stderr, nil); err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	return 0
}

// serve runs the server until SIGINT/SIGTERM or the shutdown semaphore.
// ready, when not nil, is called once every listener is open.
func serve(dir string, logOut io.Writer, ready func(*server)) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := ctrl.Init(dir); err != nil {
			return err
		}
		fmt.Fprintf(logOut, "created control directory %s from the embedded defaults\n", dir)
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		return err
	}
	// [UNIX]: the mask before any file is created, the user before any
	// port is bound so a typo stops the server at once.
	applyUmask(cfg.Unix)
	id, err := lookupIdentity(cfg.Unix)
	if err != nil {
		return err
	}
	level := new(slog.LevelVar)
	level.Set(cfg.Mail.LogLevel.Slog())
	h, logWarning := serveLogHandler(cfg.Unix, logOut, level)
	m := newMetrics()
	s := &server{dir: dir, cfg: cfg, level: level, started: time.Now(), log: slog.New(countHandler{h, m}), metrics: m}
	if logWarning != "" {
		s.log.Warn(logWarning)
	}
	if s.notify, err = newNotifier(); err != nil {
		s.log.Warn(err.Error())
	}
	defer s.notify.close()
	for _, n := range cfg.Notices {
		notice(s.log, "configuration: "+n)
	}
	for _, w := range cfg.Warnings {
		s.log.Warn("configuration: " + w)
	}
	for _, d := range []string{cfg.Paths.Data, cfg.Paths.Temp, cfg.Paths.Logs, filepath.Join(cfg.Paths.Data, "user")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	s.db, err = openStoreObserved(cfg, 3*time.Second, m.observeBatch)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%s is in use: is another bbsmail running on this BBS?", mailbasePath(cfg))
	}
	if err != nil {
		return err
	}
	defer s.db.Close()
	s.tls = s.loadTLS(cfg)
	for _, w := range exposedSecrets(cfg) {
		s.log.Warn("!" + w)
	}
	if cfg.Mail.DisablePlaintextAuth && s.tls == nil {
		s.log.Warn("!DisablePlaintextAuth is set but TLS is off: on port 110 only the server's own address can log in")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.build(ctx, cfg); err != nil {
		return err
	}
	if err := checkRootMailProc(cfg, id, s.procs.cur.Load().Len()); err != nil {
		return err
	}
	closeSock, err := admin.Listen(ctx, socketPath(cfg), s.runAdmin, s.log)
	if err != nil {
		return err
	}
	defer closeSock()
	if err := s.listen(cfg); err != nil {
		return err
	}
	if err := s.serveMetrics(ctx, cfg); err != nil {
		return err
	}
	removePid, err := s.becomeUser(cfg, id)
	if err != nil {
		return err
	}
	defer removePid()
	notice(s.log, fmt.Sprintf("Mail Server %s started on %s (control socket %s)", version, cfg.Host(), socketPath(cfg)))
	s.notify.ready("accepting mail")
	if ready != nil {
		ready(s)
	}
	s.wait(ctx)
	s.notify.stopping()
	return s.shutdown(cancel)
}

// loadTLS returns the TLS configuration for STARTTLS, 465 and 995, creating
// a self-signed certificate when the sysop has none. When ctrl/ssl.cert
// and ssl.key cannot be used (Synchronet's cryptlib keyset, most often)
// it says so loudly and keeps TLS on with a pair of its own in
// ctrl/bbsmail.cert and bbsmail.key; only if that fails too is TLS off.
func (s *server) loadTLS(cfg *ctrl.Config) *tls.Config {
	hosts := []string{cfg.Host(), cfg.System.InetAddr, cfg.Mail.HostName}
	certFile, keyFile := cfg.Paths.SSLCert, cfg.Paths.SSLKey
	cert, created, err := loadOrCreateCert(certFile, keyFile, hosts)
	if err != nil {
		ownCert, ownKey := filepath.Join(cfg.Paths.Ctrl, ownCertName), filepath.Join(cfg.Paths.Ctrl, ownKeyName)
		s.log.Warn(fmt.Sprintf("!TLS: %s; meanwhile TLS uses the self-signed pair %s and %s",
			certProblem(certFile, keyFile, err), ownCert, ownKey))
		certFile = ownCert
		cert, created, err = loadOrCreateCert(ownCert, ownKey, hosts)
		if err != nil {
			s.log.Error(fmt.Sprintf("!TLS unavailable: %v (STARTTLS, SMTPS and POP3S are off)", err))
			return nil
		}
	}
	if created {
		notice(s.log, fmt.Sprintf("created a self-signed certificate %s for %s", certFile, cfg.Host()))
	}
	return serverTLS(cert) // tls.go
}

// build creates the servers and SendMail from cfg.
func (s *server) build(ctx context.Context, cfg *ctrl.Config) error {
	sg, err := loadSigner(cfg)
	if err != nil {
		return err
	}
	s.dkim = &signer{}
	s.dkim.set(sg)
	s.ctx = ctx
	s.sendMail = &sendMailRunner{s: s}
	if err := s.sendMail.start(ctx, cfg); err != nil {
		return err
	}
	wake := s.sendMail.wake
	s.netmail = newNetmailRunner(s)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.recoverGoroutine("netmail")
		s.netmail.run(ctx)
	}()
	a := auth{db: s.db, sys: s.config}
	set, err := loadProcessors(cfg, s.db, s.log, s.wakeSendMail)
	if err != nil {
		return err
	}
	s.procs = &processors{}
	s.procs.cur.Store(set)
	s.resolver = newSwapResolver(cfg, s.db, s.procs)
	s.guard = guard.New(guardSettings(cfg, s.log))
	// One mail server, as in Synchronet: MaxClients and
	// MaxConcurrentConnections count SMTP and POP3 clients together.
	conns := &netutil.Conns{}
	s.auth = newAuthCheck(cfg)
	s.smtp = smtpd.New(s.metrics.observeDNSBL(smtpdConfig(cfg, s.tls, s.log)), smtpd.Deps{
		Auth: a, Resolver: countResolver{s.resolver, s.metrics},
		Maildrop:  countMaildrop{&maildrop{db: s.db, wake: wake, sign: s.dkim, log: s.log, netmail: s.netmail.Wake, killRead: s.killReadMail}, s.metrics},
		Telegrams: telegrams{db: s.db},
		Guard:     s.guard, RateLimit: s.guard.Protocol("SMTP"), Processors: countProcessors{s.procs, s.metrics},
		SpamHash: spamHashes{db: s.db}, Conns: conns, MailAuth: s.auth, Observer: authObserver{s.metrics, "SMTP"},
	})
	s.pop = pop3d.New(pop3dConfig(cfg, s.tls, s.log), pop3d.Deps{
		Auth: a, Mailbox: countMailbox{mailbox{db: s.db}, s.metrics}, Guard: s.guard, RateLimit: s.guard.Protocol("POP3"), Conns: conns,
		Observer: authObserver{s.metrics, "POP3"},
	})
	return nil
}

type listenerSpec struct {
	name  string
	ifs   []string
	port  int
	serve func(net.Listener) error
}

// listen opens every listener the Options ask for and starts serving.
func (s *server) listen(cfg *ctrl.Config) error {
	m := cfg.Mail
	specs := []listenerSpec{{"SMTP", m.Interfaces, m.SMTPPort, func(l net.Listener) error { return s.smtp.Serve(l, smtpd.MTA) }}}
	if m.Options.Has(ctrl.UseSubmissionPort) {
		specs = append(specs, listenerSpec{"Submission", m.Interfaces, m.SubmissionPort, func(l net.Listener) error { return s.smtp.Serve(l, smtpd.Submission) }})
	}
	if m.Options.Has(ctrl.TLSSubmission) && s.tls != nil {
		specs = append(specs, listenerSpec{"SMTPS", m.Interfaces, m.TLSSubmissionPort, func(l net.Listener) error { return s.smtp.Serve(l, smtpd.SubmissionTLS) }})
	}
	if m.Options.Has(ctrl.AllowPOP3) {
		specs = append(specs, listenerSpec{"POP3", m.POP3Interfaces, m.POP3Port, func(l net.Listener) error { return s.pop.Serve(l, pop3d.Plain) }})
	}
	if m.Options.Has(ctrl.TLSPOP3) && s.tls != nil {
		specs = append(specs, listenerSpec{"POP3S", m.POP3Interfaces, m.TLSPOP3Port, func(l net.Listener) error { return s.pop.Serve(l, pop3d.ImplicitTLS) }})
	}
	bind := bindSpec{Retries: m.BindRetryCount, Delay: m.BindRetryDelay, Log: s.log}
	for _, sp := range specs {
		ls, err := listenAll(sp.ifs, sp.port, bind)
		if err != nil {
			for _, l := range s.listeners {
				l.Close()
			}
			return fmt.Errorf("%s: %w", sp.name, err)
		}
		for _, l := range ls {
			l = s.metrics.listener(sp.name, l)
			l = s.gate.Listener(l)
			s.listeners = append(s.listeners, l)
			s.log.Info(fmt.Sprintf("%s server listening on %s", sp.name, l.Addr()))
			serveFn, l := sp.serve, l
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.recoverGoroutine("listener " + l.Addr().String())
				if err := serveFn(l); err != nil && !errors.Is(err, net.ErrClosed) && !isServerClosed(err) {
					s.log.Error(fmt.Sprintf("%s on %s: %v", sp.name, l.Addr(), err))
				}
			}()
		}
	}
	return nil
}

func isServerClosed(err error) bool {
	return errors.Is(err, smtpd.ErrServerClosed) || errors.Is(err, pop3d.ErrServerClosed)
}

func (s *server) recoverGoroutine(what string) {
	if r := recover(); r != nil {
		s.log.Error(fmt.Sprintf("!%s: panic: %v\n%s", what, r, debug.Stack()))
	}
}

// runAdmin runs a command that arrived on the control socket.
func (s *server) runAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 1 && args[0] == "status" {
		return s.status(stdout)
	}
	env := admin.Env{DB: s.db}
	env.Wake = s.sendMail.wake
	return admin.Run(ctx, env, args, stdin, stdout, stderr)
}

// wait blocks until a stop signal or the shutdown semaphore, reloading the
// configuration on SIGHUP, the recycle semaphore or an edited sbbs.ini.
func (s *server) wait(ctx context.Context) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	sem := newSemaphores(s.config(), s.started)
	sem.watch(mailproc.Candidates(mailprocConfig(s.config(), s.db, s.log))...)
	tick := time.NewTicker(s.config().Mail.SemFileCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				s.notify.reloading()
				s.reload("SIGHUP")
				s.notify.ready("accepting mail")
				continue
			}
			notice(s.log, fmt.Sprintf("received %v, shutting down", sig))
			return
		case <-tick.C:
			if p := sem.clearFile(s.config()); p != "" {
				s.clearAttempts(p)
			}
			s.pause(sem.pauseFile(s.config()))
			switch sem.check(s.config()) {
			case semShutdown:
				notice(s.log, "shutdown semaphore signaled, shutting down")
				return
			case semRecycle:
				s.notify.reloading()
				s.reload("recycle semaphore")
				s.notify.ready("accepting mail")
			}
		}
	}
}

// reload swaps in a freshly loaded configuration. A broken file keeps the
// running configuration and is logged with its file, line and key.
func (s *server) reload(why string) {
	old := s.config()
	if old.Mail.Options.Has(ctrl.NoRecycle) && why != "SIGHUP" {
		s.log.Info("recycle requested but NO_RECYCLE is set")
		return
	}
	cfg, err := ctrl.Load(s.dir)
	if err != nil {
		s.log.Error(fmt.Sprintf("!reload (%s) failed, keeping the running configuration: %v", why, err))
		return
	}
	set, err := loadProcessors(cfg, s.db, s.log, s.wakeSendMail)
	if err == nil && os.Geteuid() == 0 {
		err = checkRootMailProc(cfg, nil, set.Len())
	}
	if err != nil {
		s.log.Error(fmt.Sprintf("!reload (%s) failed, keeping the running configuration: %v", why, err))
		return
	}
	sg, err := loadSigner(cfg)
	if err != nil {
		s.log.Error(fmt.Sprintf("!reload (%s) failed, keeping the running configuration: %v", why, err))
		return
	}
	s.procs.cur.Store(set)
	s.dkim.set(sg)
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	s.level.Set(cfg.Mail.LogLevel.Slog())
	s.resolver.set(cfg)
	s.auth.set(cfg)
	s.guard.Configure(guardSettings(cfg, s.log))
	s.smtp.SetConfig(s.metrics.observeDNSBL(smtpdConfig(cfg, s.tls, s.log)))
	s.pop.SetConfig(pop3dConfig(cfg, s.tls, s.log))
	for _, name := range needRestart(old, cfg) {
		s.log.Warn(fmt.Sprintf("%s changed: it takes effect at the next restart", name))
	}
	notice(s.log, fmt.Sprintf("configuration reloaded (%s)", why))
	// SendMail waits for its deliveries under way before it restarts:
	// not in the way of the semaphore checks.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.recoverGoroutine("SendMail restart")
		s.sendMail.reload(s.ctx, cfg)
	}()
}

// pause holds new connections back while the pause semaphore file (the
// first that exists, or "") is there, as Synchronet's accept loop pauses;
// sessions already open carry on.
func (s *server) pause(file string) {
	switch {
	case file != "" && !s.gate.Paused():
		s.gate.Pause()
		s.log.Info(fmt.Sprintf("Pause semaphore file (%s) detected: new connections wait until it is removed", file))
	case file == "" && s.gate.Paused():
		s.log.Info("Pause semaphore file removed: accepting connections again")
		s.gate.Resume()
	}
}

// clearAttempts acts on the clear semaphore: it forgets the failed logins
// of the IP address on the file's first line, or of every address when the
// file is empty, lifting their bans and throttles.
func (s *server) clearAttempts(path string) {
	ip := firstLine(path)
	n, err := s.guard.Clear(ip)
	switch {
	case err != nil:
		s.log.Warn(fmt.Sprintf("!Clear Failed Login Attempts semaphore file (%s): %v", path, err))
	case ip == "":
		notice(s.log, fmt.Sprintf("Clear Failed Login Attempts semaphore file (%s) detected: %d addresses cleared", path, n))
	default:
		notice(s.log, fmt.Sprintf("Clear Failed Login Attempts semaphore file (%s) detected for IP %s: %d cleared", path, ip, n))
	}
}

// needRestart names the settings whose change a recycle cannot apply:
// the listening sockets are opened once.
func needRestart(a, b *ctrl.Config) []string {
	x, y := a.Mail, b.Mail
	var names []string
	for _, c := range []struct {
		name    string
		changed bool
	}{
		{"Interface", fmt.Sprint(x.Interfaces) != fmt.Sprint(y.Interfaces)},
		{"POP3Interface", fmt.Sprint(x.POP3Interfaces) != fmt.Sprint(y.POP3Interfaces)},
		{"SMTPPort", x.SMTPPort != y.SMTPPort},
		{"SubmissionPort", x.SubmissionPort != y.SubmissionPort},
		{"TLSSubmissionPort", x.TLSSubmissionPort != y.TLSSubmissionPort},
		{"POP3Port", x.POP3Port != y.POP3Port},
		{"TLSPOP3Port", x.TLSPOP3Port != y.TLSPOP3Port},
		// [UNIX] is read once: the process's user, mask, PID file and
		// log destination are set up before the listeners serve.
		{"[UNIX] User", a.Unix.User != b.Unix.User},
		{"[UNIX] Group", a.Unix.Group != b.Unix.Group},
		{"[UNIX] umask", a.Unix.Umask != b.Unix.Umask},
		{"[UNIX] PidFile", a.Unix.PidFile != b.Unix.PidFile},
		{"[UNIX] Daemonize", a.Unix.Daemonize != b.Unix.Daemonize},
		{"[UNIX] LogFacility", a.Unix.LogFacility != b.Unix.LogFacility},
		{"[UNIX] LogIdent", a.Unix.LogIdent != b.Unix.LogIdent},
	} {
		if c.changed {
			names = append(names, c.name)
		}
	}
	for _, o := range []ctrl.Options{ctrl.UseSubmissionPort, ctrl.TLSSubmission, ctrl.AllowPOP3, ctrl.TLSPOP3} {
		if x.Options.Has(o) != y.Options.Has(o) {
			names = append(names, "Options "+o.String())
		}
	}
	return names
}

// shutdown stops accepting, lets sessions finish up to MaxInactivity,
// stops SendMail and returns so the mailbase is closed cleanly.
func (s *server) shutdown(cancel context.CancelFunc) error {
	grace := s.config().Mail.MaxInactivity
	if grace <= 0 || grace > time.Minute {
		grace = time.Minute
	}
	ctx, done := context.WithTimeout(context.Background(), grace)
	defer done()
	var wg sync.WaitGroup
	for _, sh := range []func(context.Context) error{s.smtp.Shutdown, s.pop.Shutdown} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sh(ctx); err != nil {
				s.log.Warn(fmt.Sprintf("shutdown: %v", err))
			}
		}()
	}
	wg.Wait()
	cancel() // SendMail finishes its deliveries within its own grace period
	s.wg.Wait()
	notice(s.log, "Mail Server terminated")
	return nil
}
