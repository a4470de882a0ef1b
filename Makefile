GO ?= go
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test test-short lint bench fuzz run clean deb

all: build

build:
	$(GO) build -o bin/bbsmail ./cmd/bbsmail

# The test command of the README and of .ci/run.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

# The fast inner loop: unit, dialog and package tests; no system tests, no -race.
test-short:
	$(GO) test -short -count=1 ./...

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Throughput figures; never part of make test. GROWTH is how far the
# store's one-mailbox growth run goes (10k, 100k, ... marks); 1000000 for
# the million mark takes several minutes more.
GROWTH ?= 100000
bench: build
	$(GO) run ./cmd/bbsbench -bin bin/bbsmail
	$(GO) test -run XXX -bench MailboxGrowth -benchtime 1x ./store/ -growth $(GROWTH)

# Each fuzz target for a while, beyond its seed corpus.
FUZZTIME ?= 60s
fuzz:
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$p | grep ^Fuzz); do \
	    echo "== $$p $$f"; $(GO) test -run XXX -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
	  done; \
	done

# The embedded demo configuration on unprivileged ports.
run: build
	./bin/bbsmail demo

# A Debian package in bin/: the binary (static), the systemd unit, a man
# page, the contrib files and the docs; see docs/operations.md.
DEB_VERSION ?= 0.1.0
DEB_ARCH ?= $(shell $(GO) env GOARCH)
deb:
	CGO_ENABLED=0 GOARCH=$(DEB_ARCH) $(GO) build -trimpath -ldflags "-X main.version=$(DEB_VERSION)" -o bin/deb/bbsmail ./cmd/bbsmail
	contrib/debian/build-deb.sh bin/deb/bbsmail $(DEB_VERSION) $(DEB_ARCH) bin

clean:
	rm -rf bin
