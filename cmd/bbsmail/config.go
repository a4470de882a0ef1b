package main

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/dnsbl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/guard"
	"github.com/bbsmail/bbsmail/pop3d"
	"github.com/bbsmail/bbsmail/route"
	"github.com/bbsmail/bbsmail/sendmail"
	"github.com/bbsmail/bbsmail/smtpd"
	"github.com/bbsmail/bbsmail/store"
)

// levelNotice sits between Info and Warning, like syslog's Notice.
const levelNotice = slog.LevelInfo + 2

func notice(log *slog.Logger, msg string) { log.Log(context.Background(), levelNotice, msg) }

// maxClients applies Synchronet's rule for MaxClients = 0 (the node count,
// at least 10); bbsmail has no nodes, so 0 means 10.
func maxClients(n int) int {
	if n <= 0 {
		return 10
	}
	return n
}

func smtpdConfig(cfg *ctrl.Config, tc *tls.Config, log *slog.Logger) smtpd.Config {
	m := cfg.Mail
	o := m.Options
	dns := resolverFor(m.DNSServer)
	return smtpd.Config{
		HostName:           cfg.Host(),
		Version:            version,
		TLS:                tc,
		MaxClients:         maxClients(m.MaxClients),
		MaxConnsPerIP:      m.MaxConcurrentConnections,
		IPFilterExempt:     cfg.Lists.IPFilterExempt,
		MaxInactivity:      m.MaxInactivity,
		MaxRecipients:      m.MaxRecipients,
		MaxMsgSize:         m.MaxMsgSize,
		MaxDataInFlight:    m.MaxDataInFlight,
		MaxBadCommands:     m.MaxBadCommands,
		LoginAttemptDelay:  m.LoginAttemptDelay,
		AllowRelay:         o.Has(ctrl.AllowRelay),
		RelayHosts:         cfg.Lists.Relay,
		IPSilent:           cfg.Lists.IPSilent,
		SpamBlock:          cfg.Lists.SpamBlock,
		SpamBlockExempt:    cfg.Lists.SpamBlockExempt,
		IPFilter:           cfg.Lists.IP,
		HostFilter:         cfg.Lists.Host,
		EmailFilter:        cfg.Lists.Email,
		SubjectFilter:      cfg.Lists.Subject,
		TwitList:           cfg.Lists.TwitList,
		DNSBL:              newDNSBLChecker(cfg),
		DNSBLExempt:        cfg.Lists.DNSBLExempt,
		DNSBLRefuse:        o.Has(ctrl.DNSBLRefuse),
		DNSBLBadUser:       o.Has(ctrl.DNSBLBadUser),
		DNSBLIgnore:        o.Has(ctrl.DNSBLIgnore),
		DNSBLHeader:        m.DNSBLHeader,
		DNSBLSubject:       m.DNSBLSubject,
		DNSBLThrottle:      o.Has(ctrl.DNSBLThrottle),
		DNSBLSpamHash:      o.Has(ctrl.DNSBLSpamHash),
		DNSBLCheckReceived: o.Has(ctrl.DNSBLChkRecvHdrs),
		SpamBait:           cfg.Lists.SpamBait,
		SpamBlockPath:      cfg.Lists.SpamBlock.Path(),
		SpamBlockDuration:  m.SpamBlockDuration,
		SpyList:            cfg.Lists.SMTPSpy,
		SpyLogPath:         filepath.Join(cfg.Paths.Logs, "smtpspy.txt"),
		NoHostLookup:       o.Has(ctrl.NoHostLookup),
		LookupAddr:         dns.LookupAddr,
		LookupHost:         dns.LookupHost,
		NoNotify:           o.Has(ctrl.NoNotify),
		NotifyOfflineUsers: m.NotifyOfflineUsers,
		SpamLogPath:        filepath.Join(cfg.Paths.Logs, "spam.log"),
		Logger:             log,
		DebugRxHeader:      o.Has(ctrl.DebugRxHeader),
		DebugRxBody:        o.Has(ctrl.DebugRxBody),
		TLSErrorLevel:      m.TLSErrorLevel.Slog(),
		DebugTx:            o.Has(ctrl.DebugTx),
		DebugRxRsp:         o.Has(ctrl.DebugRxRsp),
	}
}

// dnsblChecker looks the client up in the zones of ctrl/dns_blacklist.cfg,
// through DNSServer when one is set, else the first resolv.conf server.
type dnsblChecker struct {
	r     *dnsbl.Resolver
	lists []dnsbl.List
}

// newDNSBLChecker returns nil (DNSBL off) when dns_blacklist.cfg is empty.
func newDNSBLChecker(cfg *ctrl.Config) smtpd.DNSBLChecker {
	if len(cfg.DNSBL) == 0 {
		return nil
	}
	c := &dnsblChecker{r: dnsbl.New(cfg.Mail.DNSServer, cfg.Mail.Options.Has(ctrl.UseTCPDNS), 0)}
	for _, l := range cfg.DNSBL {
		c.lists = append(c.lists, dnsbl.List{Zone: l.Zone, Line: l.Line})
	}
	return c
}

func (c *dnsblChecker) Check(ctx context.Context, ip string) (bool, string, string, error) {
	res, err := c.r.Check(ctx, ip, c.lists)
	return res.Listed, res.List.Line, res.Answer, err
}

// resolverFor is the resolver for the SMTP server's own lookups (client
// host names, the telegram sender check): the DNSServer of sbbs.ini when
// one is set, so that every lookup the mail server makes goes to the same
// server, else the system's resolver.
func resolverFor(server string) *net.Resolver {
	server = strings.TrimSpace(server)
	if server == "" || strings.EqualFold(server, "<auto>") {
		return net.DefaultResolver
	}
	addr := server
	if _, _, err := net.SplitHostPort(server); err != nil {
		addr = net.JoinHostPort(server, "53")
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

func pop3dConfig(cfg *ctrl.Config, tc *tls.Config, log *slog.Logger) pop3d.Config {
	m := cfg.Mail
	dns := resolverFor(m.DNSServer)
	return pop3d.Config{
		HostName:             cfg.Host(),
		Version:              version,
		TLS:                  tc,
		MaxClients:           maxClients(m.MaxClients),
		MaxConnsPerIP:        m.MaxConcurrentConnections,
		DisablePlaintextAuth: m.DisablePlaintextAuth,
		TLSErrorLevel:        m.TLSErrorLevel.Slog(),
		IPFilterExempt:       cfg.Lists.IPFilterExempt,
		IPSilent:             cfg.Lists.IPSilent,
		IPFilter:             cfg.Lists.IP,
		HostFilter:           cfg.Lists.Host,
		NoHostLookup:         m.Options.Has(ctrl.NoHostLookup),
		LookupAddr:           dns.LookupAddr,
		LookupHost:           dns.LookupHost,
		MaxInactivity:        m.MaxInactivity,
		LoginAttemptDelay:    m.LoginAttemptDelay,
		MaxBadCommands:       m.MaxBadCommands,
		NoReadPOP3:           m.Options.Has(ctrl.NoReadPOP3),
		KillReadSpam:         m.Options.Has(ctrl.KillReadSpam),
		Logger:               log,
		Debug:                m.Options.Has(ctrl.DebugPOP3),
	}
}

// guardSettings are the failed-login and rate-limit settings of the one
// guard.Guard that the SMTP and POP3 servers share; a reload hands the
// guard new ones and its counts carry on.
func guardSettings(cfg *ctrl.Config, log *slog.Logger) guard.Settings {
	m := cfg.Mail
	return guard.Settings{
		Throttle:                  m.LoginAttemptThrottle,
		HackThreshold:             m.LoginAttemptHackThreshold,
		TempBanThreshold:          m.LoginAttemptTempBanThreshold,
		TempBanDuration:           m.LoginAttemptTempBanDuration,
		FilterThreshold:           m.LoginAttemptFilterThreshold,
		FilterDuration:            m.LoginAttemptFilterDuration,
		MaxRequests:               m.MaxRequestsPerPeriod,
		RequestPeriod:             m.RequestRateLimitPeriod,
		SubnetPrefix4:             m.RateLimitSubnetPrefix4,
		SubnetPrefix6:             m.RateLimitSubnetPrefix6,
		RateFilterThreshold:       m.RateLimitFilterThreshold,
		RateFilterDuration:        m.RateLimitFilterDuration,
		RateFilterSilent:          m.RateLimitFilterSilent,
		RateFilterSubnetThreshold: m.RateLimitFilterSubnetThreshold,
		IPSilentFilter:            cfg.Lists.IPSilent,
		HackLog:                   filepath.Join(cfg.Paths.Logs, "hack.log"),
		IPFilter:                  cfg.Lists.IP,
		NameFilter:                cfg.Lists.Name,
		IPFilterExempt:            cfg.Lists.IPFilterExempt,
		Logger:                    log,
	}
}

func routeConfig(cfg *ctrl.Config) route.Config {
	m, sys := cfg.Mail, cfg.System
	rc := route.Config{
		SystemAddr:     sys.InetAddr,
		HostName:       m.HostName,
		Domains:        cfg.Lists.Domains,
		SysopName:      sys.Operator,
		QWKID:          sys.QWKID,
		RealNames:      sys.RealNameMail(),
		SysopAliases:   m.Options.Has(ctrl.AllowSysopAliases),
		RxByNumber:     m.Options.Has(ctrl.AllowRxByNumber),
		AllowForward:   sys.ForwardToNetmail(),
		DefaultUser:    m.DefaultUser,
		MaxMsgsWaiting: m.MaxMsgsWaiting,
		AllowRelay:     m.Options.Has(ctrl.AllowRelay),
		PostTo:         m.PostTo,
		DataDir:        cfg.Paths.Data,
		OwnAddr:        ownAddr,
	}
	if rc.SystemAddr == "" {
		rc.SystemAddr = cfg.Host()
	}
	for _, a := range sys.FidoAddr {
		rc.FidoAddrs = append(rc.FidoAddrs, a.String())
	}
	for _, h := range sys.QWKHubs {
		rc.QWKHubs = append(rc.QWKHubs, h.ID)
	}
	for _, s := range sys.Subs {
		rc.Subs = append(rc.Subs, route.Sub{Code: s.Code, Name: s.Name})
	}
	for _, a := range cfg.Aliases {
		rc.Aliases = append(rc.Aliases, route.Alias{Name: a.Name, Value: a.Value})
	}
	return rc
}

func sendmailConfig(cfg *ctrl.Config, log *slog.Logger) (sendmail.Config, error) {
	m := cfg.Mail
	o := m.Options
	auth := sendmail.AuthNone
	switch {
	case o.Has(ctrl.RelayAuthPlain):
		auth = sendmail.AuthPlain
	case o.Has(ctrl.RelayAuthLogin):
		auth = sendmail.AuthLogin
	case o.Has(ctrl.RelayAuthCRAMMD5):
		auth = sendmail.AuthCRAMMD5
	}
	local := []string{cfg.System.InetAddr}
	if m.HostName != "" {
		local = append(local, m.HostName)
	}
	return sendmail.Config{
		HostName:            cfg.Host(),
		RelayTx:             o.Has(ctrl.RelayTx),
		RelayServer:         m.RelayServer,
		RelayPort:           m.RelayPort,
		RelayUsername:       m.RelayUsername,
		RelayPassword:       m.RelayPassword,
		RelayAuth:           auth,
		DNSServer:           m.DNSServer,
		DNSTCP:              o.Has(ctrl.UseTCPDNS),
		OutboundInterface:   m.OutboundInterface,
		OutboundV6Interface: m.OutboundV6,
		ConnectTimeout:      m.ConnectTimeout,
		IOTimeout:           m.MaxInactivity,
		MaxAttempts:         m.MaxDeliveryAttempts,
		RescanFrequency:     m.RescanFrequency,
		SendInTransit:       o.Has(ctrl.SendInTransit),
		Concurrency:         m.SendMailConcurrency,
		PerHost:             m.SendMailPerHost,
		MXPort:              m.MXPort,
		RefusePrivate:       m.SendMailRefusePrivate,
		OwnAddr:             ownAddr,
		LocalDomains:        local,
		SMTPPort:            m.SMTPPort,
		NoAutoExempt:        o.Has(ctrl.NoAutoExempt),
		ExemptFile:          filepath.Join(cfg.Paths.Ctrl, "dnsbl_exempt.cfg"),
		IsExempt:            func(addr string) bool { return cfg.Lists.DNSBLExempt.Match("<"+addr+">", addr) },
		Logger:              log,
		DebugTX:             o.Has(ctrl.DebugTx),
		DebugRX:             o.Has(ctrl.DebugRxRsp),
	}, nil
}

// swapResolver lets a reload replace the routing rules while sessions run.
type swapResolver struct {
	db    *store.DB
	procs route.Processors
	cur   atomic.Pointer[route.Resolver]
}

var _ smtpd.Resolver = (*swapResolver)(nil)

func newSwapResolver(cfg *ctrl.Config, db *store.DB, procs route.Processors) *swapResolver {
	s := &swapResolver{db: db, procs: procs}
	s.set(cfg)
	return s
}

func (s *swapResolver) set(cfg *ctrl.Config) {
	rc := routeConfig(cfg)
	rc.Processors = s.procs
	rc.MayPost = mayPost(cfg, s.db)
	rc.FidoUser = fidoUser(s.db, cfg)
	s.cur.Store(route.New(rc, directory{db: s.db}))
}

func (s *swapResolver) Resolve(ctx context.Context, q envelope.RcptQuery) (envelope.Rcpt, error) {
	return s.cur.Load().Resolve(ctx, q)
}

func (s *swapResolver) OwnsSender(ctx context.Context, id envelope.Identity, addr string) (bool, string) {
	return s.cur.Load().OwnsSender(ctx, id, addr)
}

func (s *swapResolver) IsLocal(domain string, port int) bool {
	return s.cur.Load().IsLocal(domain, port)
}
