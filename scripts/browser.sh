#!/usr/bin/env bash
# Sourced by scripts/test: makes sure Debian's Chromium and ChromeDriver are installed for the
# browser test (examples/tests/host_browser.rs), installing them with apt-get (as root) when
# missing. With SC_TEST_BROWSER=0 nothing is installed and the test skips itself.

_sc_browser_say() { printf 'browser: %s\n' "$*" >&2; }

# Returns non-zero (after saying why) when the browser cannot be made available.
browser_ensure() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    _sc_browser_say "Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}') and chromedriver present"
    return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    _sc_browser_say "no /usr/bin/chromium or /usr/bin/chromedriver, and installing them needs root and apt-get"
    return 1
  fi
  _sc_browser_say "installing chromium and chromium-driver with apt-get"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } >&2; then
    _sc_browser_say "apt-get could not install chromium and chromium-driver"
    return 1
  fi
}
