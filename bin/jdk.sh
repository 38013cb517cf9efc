# Sourced by bin/mvn25 and ./crucible: sets CRUCIBLE_JAVA_HOME to a JDK 25.0.3 or newer, or
# explains what to install and returns 1. Looks at $JAVA_HOME first, then the usual JVM folders.

crucible_jdk_ok() {  # $1: a JDK home; true when its java is 25.0.3 or newer and javac is there
  local home=$1 line ver major minor patch
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 1
  line=$("$home/bin/java" -version 2>&1 | head -n 1) || return 1
  ver=$(printf '%s\n' "$line" | sed -n 's/.*version "\([^"]*\)".*/\1/p')
  ver=${ver%%-*}; ver=${ver%%+*}
  IFS=. read -r major minor patch <<<"$ver"
  major=${major:-0}; minor=${minor:-0}; patch=${patch:-0}
  case "$major$minor$patch" in *[!0-9]*) return 1 ;; esac
  [ "$major" -gt 25 ] && return 0
  [ "$major" -eq 25 ] || return 1
  [ "$minor" -gt 0 ] && return 0
  [ "$patch" -ge 3 ]
}

crucible_find_jdk() {
  local c
  if [ -n "${CRUCIBLE_JAVA_HOME:-}" ] && crucible_jdk_ok "$CRUCIBLE_JAVA_HOME"; then return 0; fi
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/*25* /usr/lib/jvm/* /opt/java/* /opt/jdk* \
           "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$c" ] && [ -d "$c" ] || continue
    if crucible_jdk_ok "$c"; then CRUCIBLE_JAVA_HOME=$c; export CRUCIBLE_JAVA_HOME; return 0; fi
  done
  {
    echo "crucible: no JDK 25.0.3 or newer found."
    echo "  Looked at \$JAVA_HOME (${JAVA_HOME:-unset}) and /usr/lib/jvm, /opt/java, ~/.sdkman, ~/.jdks."
    [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && echo "  \$JAVA_HOME has: $("$JAVA_HOME/bin/java" -version 2>&1 | head -n 1)"
    echo "  Install one (e.g. Temurin 25: https://adoptium.net, or 'apt-get install temurin-25-jdk'"
    echo "  from the Adoptium apt repository) and set JAVA_HOME to it."
  } >&2
  return 1
}
