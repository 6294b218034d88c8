#!/usr/bin/env bash
# layerscope's front door:  ./submit.sh COMMAND [options] [spark options]
#
# Builds the application jar when it is missing or older than the sources, then runs COMMAND
# through spark-submit (from PATH or $SPARK_HOME; the jar without Spark inside, target/layerscope-cluster.jar,
# and the distribution's spark-defaults.conf under layerscope's conf/spark-defaults.conf) or, without
# a Spark distribution, through Spark's own launcher class inside target/layerscope.jar. Master
# local[*] unless --master is given. spark-submit's options (--master, --conf k=v or -c k=v,
# --properties-file, --driver-memory, --executor-memory, --packages, ...; see value_options) pass
# through to Spark, the driver's and executors' Java options joined with layerscope's own; everything
# else goes to layerscope.
# `./submit.sh --help` lists commands.
set -euo pipefail

# Whether one of the words after $1 is $1; and whether one matches one of the glob patterns in $1
# ('a|b*'). Loops, not printf | grep -q: under pipefail, grep leaving at its first match can fail
# printf with SIGPIPE, and the word would be missed now and then.
has_word() {
  local wanted="$1" word
  shift
  for word in "$@"; do
    [ "$word" = "$wanted" ] && return 0
  done
  return 1
}
has_word_like() {
  local patterns word pattern
  IFS='|' read -r -a patterns <<< "$1"
  shift
  for word in "$@"; do
    for pattern in "${patterns[@]}"; do
      # shellcheck disable=SC2254  # the pattern is meant as one
      case "$word" in $pattern) return 0 ;; esac
    done
  done
  return 1
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
main_class=io.layerscope.cli.Main
# jobs/bench runs its steps (test code, not in the jar) through here, so they get the JVM and Spark
# settings a sweep gets: LAYERSCOPE_MAIN_CLASS names another main class, LAYERSCOPE_CLASSPATH adds to
# the driver's class path.
main_class="${LAYERSCOPE_MAIN_CLASS:-$main_class}"

# The Java 17 module flags Spark needs (Spark's JavaModuleOptions but the incubator vector module, as
# pom.xml's java.module.flags), for the launcher-less path.
module_flags=(-XX:+IgnoreUnrecognizedVMOptions
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.type=pooled
  -Dio.netty.handler.ssl.defaultEndpointVerificationAlgorithm=NONE
  --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED)
# layerscope contacts no host the user did not ask for: DJL always offline, headless charts.
app_props=(-Dai.djl.offline=true -Djava.awt.headless=true "-Dlog4j2.configurationFile=$here/conf/log4j2.properties")
# A batch job wants throughput, not short pauses: the parallel collector made a sweep ~7% faster
# than G1 on 2 cores (no concurrent GC threads or write barriers), and a weight of ~1 GB as float32
# (lm_head of Llama 3) is an ordinary array to it, not a G1 humongous object. Executors: see
# conf/spark-defaults.conf.
gc_flags=(-XX:+UseParallelGC)
# Where the kernel gives transparent huge pages on request, the heap takes them (fewer page faults
# for the same memory), except on a virtual machine whose memory balloon reports free pages to its
# host: there every free 2 MiB block goes back to the host, so each huge page is memory the host
# backs afresh, and a sweep spent most of its kernel time on them (docs/PERFORMANCE.md; the same
# rule turns libtorch's huge pages off below). LAYERSCOPE_FREE_PAGE_REPORTING=yes or no overrides
# the detection (as spark.FreePageReporting does for the driver); LAYERSCOPE_HEAP_HUGE_PAGES=on or
# off decides for the heap alone. Only where the kernel gives them on request: elsewhere the JVM
# would print a warning (on standard output when class-data sharing is off).
reports_free_pages() {   # a virtio balloon (device 5) offering free page reporting (feature bit 5)
  case "${LAYERSCOPE_FREE_PAGE_REPORTING:-auto}" in
    yes) return 0 ;;
    no) return 1 ;;
    auto) ;;
    *) echo "layerscope: LAYERSCOPE_FREE_PAGE_REPORTING is '$LAYERSCOPE_FREE_PAGE_REPORTING', but it must be auto, yes or no." >&2
       exit 2 ;;
  esac
  local device features
  for device in /sys/bus/virtio/devices/*; do
    [ "$(cat "$device/device" 2>/dev/null)" = 0x0005 ] || continue
    features="$(cat "$device/features" 2>/dev/null)"
    [ "${features:5:1}" = 1 ] && return 0
  done
  return 1
}
free_page_reporting=0
if reports_free_pages; then free_page_reporting=1; fi
heap_huge_pages="${LAYERSCOPE_HEAP_HUGE_PAGES:-auto}"
if [ "$heap_huge_pages" = auto ]; then
  heap_huge_pages=on
  if ((free_page_reporting)); then heap_huge_pages=off; fi
fi
if [ "$heap_huge_pages" != off ] && grep -qs '\[madvise\]' /sys/kernel/mm/transparent_hugepage/enabled; then
  gc_flags+=(-XX:+UseTransparentHugePages)
fi
# query is a short JVM that reads small tables and exits: it wants a quick start, not peak speed.
# C1 alone compiles in a fraction of the CPU time C2 spends on Spark's start (which on 2 cores
# competes with the query itself), and even a GROUP BY over millions of rows ran faster with it.
# LAYERSCOPE_QUERY_TUNING=off starts query with the flags of the other commands.
query_flags=(-XX:TieredStopAtLevel=1)
export DJL_OFFLINE=true
# the name layerscope's usage and error lines give the command ("Try './submit.sh sweep --help'")
export LAYERSCOPE_PROG="$0"
# libtorch's OpenMP spin-waits by default, 8-14x slower when threads outnumber cores.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

# A jar with CUDA libtorch inside (mvn -Pcuda) is rebuilt with it: a rebuild after a source change
# would otherwise swap it for the CPU build, and --device cuda or a GPU cluster's executors would
# then find no CUDA. The jar's own build record says which it holds (Maven filters it in; the
# checkout's last build's, in target/classes, where no jar can be read); --device cuda asks for it too.
built_libtorch() {
  local record="" candidate unread=""
  for candidate in "$jar" "$here/target/layerscope.jar" "$here/target/layerscope-cluster.jar"; do
    [ -s "$candidate" ] || continue
    record="$(jar_entry "$candidate" layerscope-version.properties)" || unread="$candidate"
    [ -z "$record" ] || break
  done
  if [ -z "$record" ]; then
    if [ -n "$unread" ]; then
      echo "layerscope: warning: nothing here reads $unread (no unzip, jar or python3) to tell which libtorch it holds; rebuilding with the last build's (target/classes)" >&2
    fi
    record="$(cat "$here/target/classes/layerscope-version.properties" 2>/dev/null || true)"
  fi
  printf '%s\n' "$record" | sed -n 's/^pytorch\.native=//p'
}
# Prints entry $2 of archive $1 (nothing if it has none); fails only where no tool here reads a zip:
# unzip is often missing on a fresh machine, and a JDK from a tarball puts no jar on PATH.
jar_entry() {
  local tool tmpd java_bin
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$1" "$2" 2>/dev/null || true
    return 0
  fi
  java_bin="$(command -v java 2>/dev/null || true)"
  for tool in "$(command -v jar 2>/dev/null || true)" "${JAVA_HOME:+$JAVA_HOME/bin/jar}" \
      "${java_bin:+$(dirname "$(readlink -f "$java_bin")")/jar}"; do
    [ -n "$tool" ] && [ -x "$tool" ] || continue
    tmpd="$(mktemp -d)"
    (cd "$tmpd" && "$tool" xf "$1" "$2" >/dev/null 2>&1) || true
    cat "$tmpd/$2" 2>/dev/null || true
    rm -rf "$tmpd"
    return 0
  done
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, zipfile
try:
    sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())
except (KeyError, zipfile.BadZipFile):
    pass' "$1" "$2" 2>/dev/null || true
    return 0
  fi
  return 1
}
build_if_stale() {
  if [ -f "$jar" ] && [ -z "$(find "$here/src/main" "$here/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  local profiles=(${build_profile[@]+"${build_profile[@]}"})
  if ((wants_cuda)) || [[ "$(built_libtorch)" == pytorch-native-cu* ]]; then
    profiles+=(-Pcuda)
  fi
  echo "layerscope: building the application jar (mvn package ${profiles[*]}, about a minute)..." >&2
  (cd "$here" && mvn -q -B -DskipTests ${profiles[@]+"${profiles[@]}"} package >&2) \
    || { echo "layerscope: build failed" >&2; exit 1; }
}

spark_args=()
app_args=()
unset heap_arg heap_conf   # set (even to "") only by the options
files=""
master=""
deploy_mode=""
user_java_options=""
user_class_path=""
user_library_path=""
user_executor_options=""
executor_options_given=0
props_file="$here/conf/spark-defaults.conf"
# spark-submit's options that take a value as the next argument
value_options=" --master --properties-file --files --driver-memory --conf -c --deploy-mode --driver-java-options
  --driver-class-path --driver-library-path --executor-memory --executor-cores --num-executors --total-executor-cores
  --jars --driver-cores --queue --name --packages --exclude-packages --repositories --archives --principal --keytab
  --proxy-user "
while [ $# -gt 0 ]; do
  if [ $# -lt 2 ] && [[ "$1" == -* && "$value_options" == *[[:space:]]"$1"[[:space:]]* ]]; then
    if [ "$1" = -c ]; then echo "layerscope: -c needs a value (e.g. -c KEY=VALUE)" >&2; else
      echo "layerscope: $1 needs a value (e.g. $1 VALUE or $1=VALUE)" >&2; fi
    exit 2
  fi
  # spark-submit's short form and --conf=K=V, as --conf K=V: the settings below are matched once
  case "$1" in -c) set -- --conf "${@:2}" ;; --conf=*) set -- --conf "${1#--conf=}" "${@:2}" ;; esac
  case "$1" in
    --master) master="$2"; shift 2 ;;
    --master=*) master="${1#*=}"; shift ;;
    --properties-file) props_file="$2"; shift 2 ;;
    --properties-file=*) props_file="${1#*=}"; shift ;;
    # spark-submit keeps only the last --files: collected here, with the discovery scripts added below
    --files) files="${files:+$files,}$2"; shift 2 ;;
    --files=*) files="${files:+$files,}${1#*=}"; shift ;;
    # the driver's heap, remembered for the path without a distribution (the JVM's -Xmx below)
    --driver-memory) heap_arg="$2"; spark_args+=("$1" "$2"); shift 2 ;;
    --driver-memory=*) heap_arg="${1#*=}"; spark_args+=("$1"); shift ;;
    # The driver's own JVM options and class path join the ones this script gives it (a second
    # --driver-java-options, or the same key by --conf, would replace them in spark-submit)
    --driver-java-options) user_java_options="${user_java_options:+$user_java_options }$2"; shift 2 ;;
    --driver-java-options=*) user_java_options="${user_java_options:+$user_java_options }${1#*=}"; shift ;;
    --driver-class-path) user_class_path="${user_class_path:+$user_class_path:}$2"; shift 2 ;;
    --driver-class-path=*) user_class_path="${user_class_path:+$user_class_path:}${1#*=}"; shift ;;
    --driver-library-path) user_library_path="${user_library_path:+$user_library_path:}$2"; spark_args+=("$1" "$2"); shift 2 ;;
    --driver-library-path=*) user_library_path="${user_library_path:+$user_library_path:}${1#*=}"; spark_args+=("$1"); shift ;;
    --conf)
      case "$2" in
        spark.driver.memory=*) heap_conf="${2#*=}" ;;
        spark.submit.deployMode=*) deploy_mode="${2#*=}" ;;
        spark.driver.extraJavaOptions=*)
          user_java_options="${user_java_options:+$user_java_options }${2#*=}"; shift 2; continue ;;
        spark.driver.extraClassPath=*)
          user_class_path="${user_class_path:+$user_class_path:}${2#*=}"; shift 2; continue ;;
        spark.executor.extraJavaOptions=*)
          executor_options_given=1
          user_executor_options="${user_executor_options:+$user_executor_options }${2#*=}"; shift 2; continue ;;
      esac
      spark_args+=("$1" "$2"); shift 2 ;;
    --deploy-mode) deploy_mode="$2"; spark_args+=("$1" "$2"); shift 2 ;;
    --deploy-mode=*) deploy_mode="${1#*=}"; spark_args+=("$1"); shift ;;
    # the rest of spark-submit's options, as they are
    --executor-memory|--executor-cores|--num-executors|--total-executor-cores|--jars|--driver-cores|--queue|--name|\
    --packages|--exclude-packages|--repositories|--archives|--principal|--keytab|--proxy-user)
      spark_args+=("$1" "$2"); shift 2 ;;
    --executor-memory=*|--executor-cores=*|--num-executors=*|--total-executor-cores=*|--jars=*|--driver-cores=*|\
    --queue=*|--name=*|--packages=*|--exclude-packages=*|--repositories=*|--archives=*|--principal=*|--keytab=*|\
    --proxy-user=*|--supervise)
      spark_args+=("$1"); shift ;;
    *) app_args+=("$1"); shift ;;
  esac
done
master="${master:-local[*]}"
# Properties file $1's logical lines: a line ending in an odd number of backslashes goes on with the
# next, whose leading blanks are dropped (Java properties: comment lines never go on, a backslash
# ending the file is dropped, CRLF ends a line too).
prop_lines() {
  # from standard input: awk would take a file name with '=' in it for an assignment
  awk 'function odd(s,  n) { n = 0; while (n < length(s) && substr(s, length(s) - n, 1) == "\\") n++; return n % 2 }
    { l = $0; sub(/\r$/, "", l)
      if (l !~ /^[ \t\f]*[#!]/) while (odd(l)) { l = substr(l, 1, length(l) - 1)
        if ((getline m) <= 0) break
        sub(/\r$/, "", m); sub(/^[ \t\f]*/, "", m); l = l m }
      print l }' < "$1"
}
# The values of the keys matching the extended regex $1 in properties file $2, read as Spark reads it
# (Java properties: "key value", "key=value" or "key: value"; # and ! lines are comments), one per line.
prop_values() {
  prop_lines "$2" 2>/dev/null | sed -nE "s/^[[:space:]]*($1)([[:space:]]*[=:][[:space:]]*|[[:space:]]+)//p" \
    | sed -E 's/[[:space:]]+$//' || true
}
# the last value of key $1 (as Java properties take it)
prop_value() {
  prop_values "${1//./\\.}" "$2" | tail -n 1
}
deploy_mode="${deploy_mode:-$(prop_value spark.submit.deployMode "$props_file")}"
# The driver's Java options: the properties file's, then the command line's. spark-submit would take
# only one of the three (this script's own included), the last given.
driver_options="$(prop_value spark.driver.extraJavaOptions "$props_file")"
driver_options="${driver_options:+$driver_options${user_java_options:+ }}$user_java_options"
props_class_path="$(prop_value spark.driver.extraClassPath "$props_file")"
user_class_path="${props_class_path:+$props_class_path${user_class_path:+:}}$user_class_path"
# In cluster deploy mode the driver runs on a node of the cluster, in a directory Spark makes for
# it, where a relative path would name a place the user never meant (results in Spark's work
# directory). Paths given relative to here are made absolute: the outputs and caches always, the
# model and the calibration files when they name something here (else a repo id, demo or c4).
# Absolute, they must still be on storage the driver's node reaches (docs/CLUSTER.md).
absolute_path() {   # a leading ~ (left as it is after --out=) is the home directory, as layerscope reads it
  case "$1" in
    /*|*://*|"") printf '%s' "$1" ;;
    "~") printf '%s' "$HOME" ;;
    "~/"*) printf '%s/%s' "$HOME" "${1#\~/}" ;;
    *) printf '%s/%s' "$PWD" "$1" ;;
  esac
}
absolute_if_here() {   # a value that may be a path or a name; comma-separated for --calibration
  local part out="" IFS=,
  for part in $1; do
    case "$part" in "~"|"~/"*) part="$(absolute_path "$part")" ;; esac
    if [ -e "$part" ]; then part="$(absolute_path "$part")"; fi
    out="${out:+$out,}$part"
  done
  printf '%s' "$out"
}
absolute_option() {   # absolute_option OPTION VALUE: the value as the driver should see it; status 1 if no path option
  case "$1" in
    --out|--cache-dir|--cache_dir|--calibration-cache|--save-pruned|--imatrix) absolute_path "$2" ;;
    --model) if [ "$2" = demo ]; then printf '%s' "$2"; else absolute_if_here "$2"; fi ;;
    --calibration) case "$2" in demo|c4|c4:*) printf '%s' "$2" ;; *) absolute_if_here "$2" ;; esac ;;
    *) return 1 ;;
  esac
}
if [ "$deploy_mode" = cluster ]; then
  cache_given=0
  for ((i = 1; i < ${#app_args[@]}; i++)); do
    arg="${app_args[i]}"
    case "$arg" in --cache-dir|--cache_dir|--cache-dir=*|--cache_dir=*) cache_given=1 ;; esac
    case "$arg" in
      --*=*) if value="$(absolute_option "${arg%%=*}" "${arg#*=}")"; then app_args[i]="${arg%%=*}=$value"; fi ;;
      --*) if ((i + 1 < ${#app_args[@]})) && value="$(absolute_option "$arg" "${app_args[i + 1]}")"; then
             app_args[i + 1]="$value"
             i=$((i + 1))
           fi ;;
    esac
  done
  # Without --cache-dir a driver would download into a cache of its own working directory (a
  # container's or a Worker's, gone or unknown after the run), or, on YARN and Kubernetes, not see
  # this environment's HF_HOME: it is told the cache a driver here would use (model.HfCache.cacheDir's
  # rule, which SubmitScriptTest checks this against), so that a download lands where the next run looks.
  case "${app_args[0]:-}" in
    sweep|layer)
      if ((cache_given == 0)); then
        set_to() { [[ "${!1:-}" =~ [^[:space:]] ]]; }   # set and not blank, as HfCache reads them
        if set_to HF_HUB_CACHE; then cache="$HF_HUB_CACHE"
        elif set_to HUGGINGFACE_HUB_CACHE; then cache="$HUGGINGFACE_HUB_CACHE"
        elif set_to HF_HOME; then cache="$HF_HOME/hub"
        else cache=llm_weights
        fi
        case "$cache" in "~") cache="$HOME" ;; "~/"*) cache="$HOME/${cache#\~/}" ;; esac
        app_args+=(--cache-dir "$(absolute_path "$cache")")
      fi ;;
  esac
fi
# libtorch's arrays of 2 MB or more in transparent huge pages, for forwards of at least 1024 tokens
# (--seqlen times --batch-size; --seqlen's default is 2048, 256 for the demo model): their
# activations are tens of MB each, mapped afresh by every operation, and 4 KB page faults cost as
# much as the arithmetic; shorter ones lose a little by it. With --gram on whatever the windows: each
# sequence's Gram product is an in x in array mapped afresh. Off where the balloon reports free pages
# (above): there both took longer with them. libtorch reads it once, at its start: this decides for
# the JVM started here (spark.HugePageAllocation has the same rule and figures, which SubmitScriptTest
# checks against the Java code); the driver gives the executors a job starts the rule's part, and
# each executor's own machine the balloon's.
tokens_seqlen=""
tokens_batch=1
tokens_default=2048
gram=0
wants_cuda=0
for ((i = 0; i < ${#app_args[@]}; i++)); do
  case "${app_args[i]}" in
    --device) [[ "${app_args[i+1]:-}" =~ ^[[:space:]]*[Cc][Uu][Dd][Aa] ]] && wants_cuda=1 ;;
    --device=*) [[ "${app_args[i]#*=}" =~ ^[[:space:]]*[Cc][Uu][Dd][Aa] ]] && wants_cuda=1 ;;
    --model|--model=demo)
      if [ "${app_args[i]}" = --model=demo ] || [ "${app_args[i+1]:-}" = demo ]; then tokens_default=256; fi ;;
    --seqlen) tokens_seqlen="${app_args[i+1]:-}" ;;
    --seqlen=*) tokens_seqlen="${app_args[i]#*=}" ;;
    --batch-size|--batch_size) tokens_batch="${app_args[i+1]:-}" ;;
    --batch-size=*|--batch_size=*) tokens_batch="${app_args[i]#*=}" ;;
    --gram) gram=1 ;;
  esac
done
tokens_seqlen="${tokens_seqlen:-$tokens_default}"
thp_default=1
if ((free_page_reporting)) || { ((gram == 0)) && [[ "$tokens_seqlen" =~ ^[0-9]{1,6}$ && "$tokens_batch" =~ ^[0-9]{1,6}$ ]] \
    && ((tokens_seqlen * tokens_batch < 1024)); }; then
  thp_default=0
fi
export THP_MEM_ALLOC_ENABLE="${THP_MEM_ALLOC_ENABLE:-$thp_default}"
case "$master" in local*) export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}" ;; esac

spark_submit=""
if command -v spark-submit >/dev/null 2>&1; then
  spark_submit="$(command -v spark-submit)"
elif [ -n "${SPARK_HOME:-}" ] && [ -x "$SPARK_HOME/bin/spark-submit" ]; then
  spark_submit="$SPARK_HOME/bin/spark-submit"
fi
# The Spark inside layerscope's jar has no YARN or Kubernetes client (Spark's launcher would say it
# "may not have been compiled with YARN support"): those cluster managers need a distribution.
if [ -z "$spark_submit" ]; then
  case "${app_args[0]:-}:$master" in
    :*|-h:*|--help:*|-V:*|--version:*|help:*|layer-types:*|list-layers:*|completion:*) ;;   # no Spark needed
    *:yarn*|*:k8s://*)
      spark_version="$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' "$here/pom.xml" 2>/dev/null | head -n 1 || true)"
      echo "layerscope: --master $master needs a Spark ${spark_version:+$spark_version }distribution: spark-submit on PATH, or SPARK_HOME set to it (the Spark inside layerscope's jar runs local mode and standalone clusters only; docs/CLUSTER.md)." >&2
      exit 2 ;;
  esac
fi
# A Spark distribution brings Spark, Scala, Hadoop and their libraries, which a second copy in the
# application jar could only conflict with: it gets the jar built without them (-Pcluster).
build_profile=()
jar="$here/target/layerscope.jar"
spark_jars=""
if [ -n "$spark_submit" ]; then
  build_profile=(-Pcluster)
  jar="$here/target/layerscope-cluster.jar"
  spark_jars="$(cd "$(dirname "$(readlink -f "$spark_submit")")/.." && pwd)/jars/*"
fi
class_path="$jar${spark_jars:+:$spark_jars}${LAYERSCOPE_CLASSPATH:+:$LAYERSCOPE_CLASSPATH}"

# A resource discovery script runs on each executor as it starts, before any task, with a path taken
# relative to the executor's working directory. A properties file may name its script ./NAME
# (conf/gpu/spark-gpu.conf does) or NAME (found only where the executor's PATH holds "."); the script
# of that name beside the file is then shipped with --files, which YARN places in every executor's
# working directory before the executor starts. The file is read as Spark reads it (Java properties:
# "key value", "key=value" or "key: value"). A relative path with a directory would arrive under its
# bare name, so it is not shipped, and said so; an absolute path is a script every node has.
props_dir="$(cd "$(dirname "$props_file")" 2>/dev/null && pwd || true)"
while IFS= read -r script; do
  name="${script#./}"
  if [ -z "$name" ] || [ "${script#/}" != "$script" ]; then
    continue
  elif [ "${name#*/}" != "$name" ]; then
    echo "layerscope: the discovery script $script in $props_file is not shipped to the executors: --files puts a file in their working directory under its bare name; name it ./$(basename "$name") beside $(basename "$props_file"), or give a path every node has" >&2
  elif [ -f "$props_dir/$name" ]; then
    files="${files:+$files,}$props_dir/$name"
  elif [ "$name" != "$script" ]; then
    echo "layerscope: the discovery script $script in $props_file is not shipped to the executors: there is no $name beside $(basename "$props_file")" >&2
  fi
done < <(prop_values 'spark\.executor\.resource\.[^.=:[:space:]]+\.discoveryScript' "$props_file")
if [ -n "$files" ]; then
  spark_args+=(--files "$files")
fi

build_if_stale

command="${app_args[0]:-}"
case "$command" in
  ""|-h|--help|-V|--version|help|layer-types|list-layers)
    # Listings read headers only: no Spark needed, so they answer at once.
    exec java "${app_props[@]}" -cp "$class_path" "$main_class" "${app_args[@]}" ;;
esac

# query prints its results, and its shell reads statements, where its driver runs: here. So does
# layer without --out, writing its picture into the driver's working directory.
if [ "$command" = query ] && [ "$deploy_mode" = cluster ]; then
  echo "layerscope: query prints its results where its driver runs, so it runs in client mode: leave out --deploy-mode cluster (its Spark jobs still run on the cluster's executors)." >&2
  exit 2
fi
if [ "$command" = layer ] && [ "$deploy_mode" = cluster ] && ! has_word_like '--out|--out=*' ${app_args[@]+"${app_args[@]}"}; then
  echo "layerscope: layer without --out prints its statistics and writes its picture where its driver runs, on a node of the cluster in cluster deploy mode: give --out (a directory on storage that node reaches), or leave out --deploy-mode cluster." >&2
  exit 2
fi

# On a cluster every executor fetches the whole application jar from the driver at every run (about
# 130 MB without Spark, much more with CUDA libtorch), all of them from the one driver.
# LAYERSCOPE_EXECUTOR_JAR says where the executors find it instead: "local" for this jar's own path
# on every node (a checkout on the file system the model is shared on) or local:/PATH for another
# path there (Spark copies it from the node's own file system into each executor's directory),
# "none" where the executors' class path has it already (a node's $SPARK_HOME/jars,
# spark.executor.extraClassPath, a container image: nothing is copied), or a URI the executors read
# themselves (hdfs://, s3a://, https://). Local mode runs the jar this JVM has and ignores it.
executor_jar="$jar"
case "$master" in
  local*) ;;
  *)
    case "${LAYERSCOPE_EXECUTOR_JAR:-}" in
      "") ;;
      none) executor_jar=spark-internal ;;
      local) executor_jar="local:$jar" ;;
      local:/*)
        executor_jar="$LAYERSCOPE_EXECUTOR_JAR"
        there="${LAYERSCOPE_EXECUTOR_JAR#local:}"
        if [ -e "$there" ] && ! cmp -s "$there" "$jar"; then
          echo "layerscope: LAYERSCOPE_EXECUTOR_JAR names $there, which is not the jar this run uses ($jar): copy it there on every node, or leave LAYERSCOPE_EXECUTOR_JAR unset to send the jar with the job." >&2
          exit 2
        fi ;;
      # in client mode named to the driver, which adds it for the executors: spark-submit would
      # download a remote application jar (or --jars) into the driver's temporary directory first
      *://*)
        if [ "$deploy_mode" = cluster ]; then
          executor_jar="$LAYERSCOPE_EXECUTOR_JAR"
        else
          executor_jar=spark-internal
          spark_args+=(--conf "spark.layerscope.executorJar=$LAYERSCOPE_EXECUTOR_JAR")
        fi ;;
      *) echo "layerscope: LAYERSCOPE_EXECUTOR_JAR is '$LAYERSCOPE_EXECUTOR_JAR', but it must be local (this jar's path on every node), local:/PATH, none (the executors' class path has the jar) or a URI such as hdfs://HOST/PATH." >&2
         exit 2 ;;
    esac ;;
esac
# Standalone's cluster deploy mode starts the driver on a Worker from a jar the Worker copies
# through Hadoop's file systems, which have no local: scheme: local:/PATH becomes PATH there (a
# copy from the node's own file system, as meant; the executors then fetch theirs from the driver),
# and none has no jar to name. YARN and Kubernetes read local: themselves.
if [ "$deploy_mode" = cluster ] && [[ "$master" == spark://* ]]; then
  case "$executor_jar" in
    spark-internal)
      echo "layerscope: LAYERSCOPE_EXECUTOR_JAR=none needs --deploy-mode client on a standalone cluster: in cluster deploy mode a Worker starts the driver from a jar it copies. Use LAYERSCOPE_EXECUTOR_JAR=local (this jar's path on every node) or a URI such as hdfs://HOST/PATH." >&2
      exit 2 ;;
    local:*) executor_jar="${executor_jar#local:}" ;;
  esac
fi
# the driver runs the jar here, wherever the executors find theirs
driver_class_path="${LAYERSCOPE_CLASSPATH:-}"
if [ "$executor_jar" != "$jar" ]; then
  driver_class_path="$jar${driver_class_path:+:$driver_class_path}"
fi
driver_class_path="${driver_class_path:+$driver_class_path${user_class_path:+:}}$user_class_path"

jvm_flags=("${gc_flags[@]}")
if [ "$command" = query ]; then
  if [ "${LAYERSCOPE_QUERY_TUNING:-on}" != off ]; then
    jvm_flags+=("${query_flags[@]}")
  fi
else
  # libtorch's oneMKL takes generic kernels for some matrix products on AMD CPUs; on AMD x86-64 this
  # preloads a one-function shim that lets it choose by instruction set (src/main/c/mkl_intel_cpu_true.c).
  # It reaches the executors that run in this JVM (local mode); CPU executors elsewhere: docs/CLUSTER.md
  # "Running on a cluster". LAYERSCOPE_MKL_SHIM=off disables it. query runs no model: it goes without.
  mkl_shim="$("$here/scripts/build-mkl-shim.sh")"
  if [ -n "$mkl_shim" ]; then
    export LD_PRELOAD="$mkl_shim${LD_PRELOAD:+:$LD_PRELOAD}"
  fi
  # On a CPU with AVX-512, C2's 512-bit vectors ran stage two's statistics loops slower than 256-bit
  # ones (docs/PERFORMANCE.md), with the same results. The cap reaches the executors in this JVM (local
  # mode); executors elsewhere have it from conf/spark-defaults.conf. LAYERSCOPE_VECTOR_TUNING=off keeps
  # this JVM's width.
  if [ "${LAYERSCOPE_VECTOR_TUNING:-on}" != off ] && grep -qsw avx512f /proc/cpuinfo; then
    jvm_flags+=(-XX:MaxVectorSize=32)
  fi
fi

# Splits $1 into words (one per line) as Spark splits spark.driver.extraJavaOptions (its launcher's
# CommandBuilderUtils.parseOptionString): blanks separate words, except inside '...' (taken as it
# is) or "..."; a backslash outside single quotes takes the next character as it is. Status 1 with
# the reason on standard output when quotes or an escape are left open.
split_java_options() {
  local s="$1" c word="" out="" in_word=0 single=0 double=0 escape=0 i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    if ((escape)); then word+="$c"; escape=0; in_word=1; continue; fi
    case "$c" in
      \\) if ((single)); then word+="$c"; else escape=1; fi; in_word=1 ;;
      \') if ((double)); then word+="$c"; else single=$((1 - single)); fi; in_word=1 ;;
      \") if ((single)); then word+="$c"; else double=$((1 - double)); fi; in_word=1 ;;
      [[:space:]])
        if ((single || double)); then word+="$c"
        elif ((in_word)); then out+="$word"$'\n'; word=""; in_word=0
        fi ;;
      *) word+="$c"; in_word=1 ;;
    esac
  done
  if ((single || double || escape)); then
    printf '%s' "$( ((escape)) && echo "a backslash at the end" || echo "a quote left open")"
    return 1
  fi
  if ((in_word)); then out+="$word"$'\n'; fi
  printf '%s' "$out"
}
# $1 quoted for that splitter where it needs to be (blanks, quotes, backslashes)
spark_quote() {
  case "$1" in
    *[[:space:]\"\\\']*) printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')" ;;
    *) printf '%s' "$1" ;;
  esac
}
# Whether $1 chooses the JVM's collector (-XX:+UseAdaptiveSizePolicyWithSystemGC only tunes one)
is_collector() {
  [[ "$1" =~ ^-XX:\+Use(Serial|Parallel|ParallelOld|G1|Z|Shenandoah|Epsilon|ConcMarkSweep)GC$ ]]
}
# Drops the collector flags from the array named $1: a later one replaces them, as the JVM refuses two
drop_collectors() {
  local -n flags="$1"
  local kept=() f
  for f in ${flags[@]+"${flags[@]}"}; do is_collector "$f" || kept+=("$f"); done
  flags=(${kept[@]+"${kept[@]}"})
}
# Words $@ as one string that Spark's splitter reads back as them
spark_join() {
  local w out=""
  for w in "$@"; do out="${out:+$out }$(spark_quote "$w")"; done
  printf '%s' "$out"
}
# The driver's Java options from the properties file and the command line, as Spark splits them,
# less those this script gives already (conf/spark-defaults.conf repeats some for cluster drivers):
# as words for a driver this script starts, re-quoted for spark-submit's --driver-java-options.
user_java_words=()
user_java_string=""
if [ -n "$driver_options" ]; then
  if ! words="$(split_java_options "$driver_options")"; then
    echo "layerscope: the driver's Java options '$driver_options' cannot be split into options ($words)" >&2
    exit 2
  fi
  while IFS= read -r w; do
    case "$w" in
      "") continue ;;
      -Xmx*)
        echo "layerscope: the driver's Java options may not set the heap ($w): use --driver-memory, as spark-submit asks" >&2
        exit 2 ;;
    esac
    if [ "$deploy_mode" != cluster ] && has_word "$w" "${app_props[@]}" ${jvm_flags[@]+"${jvm_flags[@]}"}; then
      continue
    fi
    if is_collector "$w"; then   # a collector of its own: the last one named
      if [ "$deploy_mode" != cluster ]; then drop_collectors jvm_flags; fi   # else this JVM only launches
      drop_collectors user_java_words
    fi
    user_java_words+=("$w")
  done <<< "$words"
  user_java_string="$(spark_join ${user_java_words[@]+"${user_java_words[@]}"})"
fi
# The executors' Java options given on the command line join the properties file's (the young
# generation's cap, the JIT's vectors, offline, headless), which spark-submit would drop; a collector
# named there replaces the file's, as the JVM refuses two. Given empty, they clear the file's.
if ((executor_options_given)); then
  if ! mine="$(split_java_options "$user_executor_options")"; then
    echo "layerscope: the executors' Java options '$user_executor_options' cannot be split into options ($mine)" >&2
    exit 2
  fi
  file_options="$(prop_value spark.executor.extraJavaOptions "$props_file")"
  if ! base="$(split_java_options "$file_options")"; then
    echo "layerscope: $props_file's spark.executor.extraJavaOptions '$file_options' cannot be split into options ($base)" >&2
    exit 2
  fi
  executor_words=()
  if [ -n "$mine" ]; then
    while IFS= read -r w; do
      if [ -n "$w" ]; then executor_words+=("$w"); fi
    done <<< "$base"
    while IFS= read -r w; do
      if [ -z "$w" ]; then continue; fi
      if is_collector "$w"; then drop_collectors executor_words; fi
      executor_words+=("$w")
    done <<< "$mine"
  fi
  spark_args+=(--conf "spark.executor.extraJavaOptions=$(spark_join ${executor_words[@]+"${executor_words[@]}"})")
fi
# Without a distribution, a driver on the cluster gets them through Spark, and not this JVM
if [ -z "$spark_submit" ] && [ "$deploy_mode" = cluster ]; then
  if [ -n "$user_java_options" ]; then spark_args+=(--driver-java-options "$user_java_string"); fi
  if [ -n "$user_class_path" ]; then spark_args+=(--driver-class-path "$user_class_path"); fi
  user_java_words=()
  user_class_path=""
  user_library_path=""
fi

# A size as Spark reads it (512m, 4g, 4gb; a bare number is MiB) in the JVM's -Xmx form (4g, 4096m),
# or status 1 when it is none (bytes, a fraction, a word).
heap_form() {
  local size
  size="$(printf '%s' "$1" | tr 'A-Z' 'a-z')"
  if [[ "$size" =~ ^([1-9][0-9]*)([kmgt]?)b?$ ]] && { [ -n "${BASH_REMATCH[2]}" ] || [ "${size%b}" = "$size" ]; }; then
    printf '%s%s' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]:-m}"
    return 0
  fi
  return 1
}

# The young generation capped at 256 MiB in a JVM that runs tasks (heaps of 768 MiB or more, whose
# default is a third of the heap): the parallel collector grows it to that third, and every page of
# it is touched before it is reused. Where a first touch costs the most (a virtual machine whose host
# takes freed memory back), a sweep of the 1B shape spent more time faulting a 1.1 GB eden in than
# the collections it saved. LAYERSCOPE_YOUNG_CAP=off leaves the JVM's default; executors elsewhere:
# docs/CLUSTER.md. young_cap SIZE (as Spark reads a size) prints the option, or nothing.
young_cap() {
  local form mib
  form="$(heap_form "$1")" || return 0
  case "$form" in
    *t) mib=$((${form%t} * 1024 * 1024)) ;;
    *g) mib=$((${form%g} * 1024)) ;;
    *k) mib=$((${form%k} / 1024)) ;;
    *) mib=${form%m} ;;
  esac
  if [ "${LAYERSCOPE_YOUNG_CAP:-on}" != off ] && ((mib >= 768)); then
    printf '%s' -XX:MaxNewSize=256m
  fi
}
driver_memory="$(prop_value spark.driver.memory "$props_file")"

# Standalone's and Kubernetes' cluster deploy modes end spark-submit with status 0 whatever became of
# the driver (Kubernetes': SPARK-26365). Spark's clients log the driver's final state at INFO
# (conf/log4j2.properties shows standalone's, and conf/log4j2-submit-client.properties both for a
# distribution's spark-submit, below): a standalone driver's state other than FINISHED, or a driver
# pod's phase Failed, ends this script with status 1 (a pod's driver that exited 2, bad input: 2)
# and says where the driver's output is; a YARN application its ApplicationMaster ended for lost
# executors gets a line on what that usually means.
watch_driver=""
if [ "$deploy_mode" = cluster ]; then
  case "$master" in spark://*) watch_driver=standalone ;; k8s://*) watch_driver=k8s ;; yarn) watch_driver=yarn ;; esac
fi
# Runs a command as a child of this script and waits for it, setting status. A SIGINT or TERM sent to
# this script is passed on as TERM: a background child of a script ignores SIGINT, and TERM runs a
# JVM's shutdown hooks (no results directory, no staging left). The child keeps this script's
# standard input, where a background child would read /dev/null (query's shell reads statements there).
run_child() {
  "$@" <&0 & child=$!
  # a background child of a script ignores SIGINT (as the shell set it up), so Ctrl-C reaches it as TERM;
  # its TERM status then reads as the interrupt it was (130, what a JVM run by exec exits with)
  local first_signal=""
  trap 'first_signal="${first_signal:-INT}"; kill -TERM "$child" 2>/dev/null || true' INT
  trap 'first_signal="${first_signal:-TERM}"; kill -TERM "$child" 2>/dev/null || true' TERM
  while true; do
    wait "$child" && status=0 || status=$?
    kill -0 "$child" 2>/dev/null || break
  done
  trap - INT TERM
  if [ "$first_signal" = INT ] && [ "$status" = 143 ]; then status=130; fi
}
run_submission() {
  if [ -z "$watch_driver" ]; then exec "$@"; fi
  local log state status=0 child tee_pid
  log="$(mktemp "${TMPDIR:-/tmp}/layerscope-submit.XXXXXX")"
  # spark-submit runs as a child whose standard error is copied into the log (a signal to this
  # script reaches it, as it would have through exec)
  exec 4> >(tee "$log" >&2)
  tee_pid=$!
  run_child "$@" 2>&4
  exec 4>&-
  wait "$tee_pid" 2>/dev/null || true
  if [ "$watch_driver" = yarn ]; then
    # YARN's ApplicationMaster ends the application itself once executors have failed too often, and its
    # diagnostics say only that (the driver's own explanation of memory kills, given in client mode, never
    # reaches them); for layerscope the usual cause is libtorch's memory beyond the container's overhead
    if [ "$status" != 0 ] && grep -q 'Max number of executor failures' "$log"; then
      app="$(grep -m 1 -o 'application_[0-9]*_[0-9]*' "$log" || true)"
      app="${app%%$'\n'*}"
      echo "layerscope: YARN ended ${app:-the application} after its executors failed again and again. Executors killed for their memory say so in its logs (yarn logs -applicationId ${app:-APPLICATION_ID} | grep 'Container killed'): then raise spark.executor.memoryOverhead, which libtorch's memory counts against (docs/CLUSTER.md, executor memory)." >&2
    fi
  elif [ "$watch_driver" = standalone ]; then
    state="$(sed -n 's/.*State of driver \([^ ]*\) is \([A-Z]*\), exiting.*/\1 \2/p' "$log" | tail -n 1)"
    if [ "$status" = 0 ] && [ -n "$state" ] && [ "${state#* }" != FINISHED ]; then
      echo "layerscope: the driver ${state% *} ended ${state#* } on the cluster; its output is on the Worker that ran it, in ${state% *}/stderr under the Worker's work directory (the Master's web UI links it)." >&2
      status=1
    fi
  else
    # the watcher's pod states: "<tab> key: value" lines; the last phase is the pod's final one, and
    # "Container final statuses" lists each container's exit code under its name
    state="$(awk -F': ' '
      /^[[:space:]]+pod name: / { pod = $2 }
      /^[[:space:]]+namespace: / { ns = $2 }
      /^[[:space:]]+phase: / { phase = $2 }
      /Container final statuses:/ { final = 1; code = "" }
      final && /^[[:space:]]+container name: / { name = $2 }
      final && /^[[:space:]]+exit code: / && (code == "" || name == "spark-kubernetes-driver") { code = $2 }
      END { print phase "|" code "|" pod "|" ns }' "$log")"
    IFS='|' read -r phase code pod namespace <<< "$state"
    if [ "$status" = 0 ] && [ "$phase" = Failed ]; then
      echo "layerscope: the driver pod ${pod:-?} ended Failed${code:+ (exit code $code)}; its output is the pod's log: kubectl logs ${pod:-POD} --namespace ${namespace:-NAMESPACE}" >&2
      status=1
      if [ "$code" = 2 ]; then status=2; fi
      # Spark's exit code for a driver that gave up on executors failing again and again
      if [ "$code" = 11 ]; then
        echo "layerscope: exit code 11 is Spark giving up after its executors failed again and again. Executor pods killed for their memory show in the driver's log (kubectl logs ${pod:-POD} --namespace ${namespace:-NAMESPACE} | grep -B3 OOMKilled): then raise spark.executor.memoryOverhead, which libtorch's memory counts against (docs/CLUSTER.md, executor memory)." >&2
      fi
    fi
  fi
  rm -f "$log"
  exit "$status"
}

# --properties-file alone would replace the distribution's conf/spark-defaults.conf (event log, queues,
# security): --load-spark-defaults reads it too, and layerscope's file takes precedence over it.
if [ -n "$spark_submit" ]; then
  # in local mode the driver runs the tasks: the heap as far as the options and the file say
  case "$master" in local*) young_flag="$(young_cap "${heap_arg-${heap_conf-$driver_memory}}")" ;; *) young_flag="" ;; esac
  # options decided for a driver on this machine (its CPU, its balloon, this checkout's log4j file);
  # a driver on a node of the cluster has the conf's spark.driver.extraJavaOptions instead
  script_java_string="$(spark_join "${app_props[@]}" ${jvm_flags[@]+"${jvm_flags[@]}"} ${young_flag:+"$young_flag"})"
  driver_java_options=(--driver-java-options "$script_java_string${user_java_string:+ $user_java_string}")
  if [ "$deploy_mode" = cluster ]; then
    driver_java_options=()
    # the properties file's reach that driver by themselves; with the command line's they are repeated
    if [ -n "$user_java_options" ]; then driver_java_options=(--driver-java-options "$user_java_string"); fi
  fi
  # The driver's final state is read from INFO lines, which a distribution's log4j configuration may
  # hide: spark-submit's JVM (the client alone, in this mode) gets that configuration merged with
  # layerscope's two loggers for them, unless SPARK_SUBMIT_OPTS names a configuration already.
  if [[ "$watch_driver" == standalone || "$watch_driver" == k8s ]] && [[ "${SPARK_SUBMIT_OPTS:-}" != *log4j*.configurationFile* ]]; then
    spark_conf_dir="${SPARK_CONF_DIR:-$(dirname "$(dirname "$(readlink -f "$spark_submit")")")/conf}"
    base_log4j=org/apache/spark/log4j2-defaults.properties # Spark's own, where the distribution has none
    for f in log4j2.properties log4j2.yaml log4j2.yml log4j2.json log4j2.xml; do # log4j's order
      if [ -f "$spark_conf_dir/$f" ]; then base_log4j="$spark_conf_dir/$f"; break; fi
    done
    export SPARK_SUBMIT_OPTS="${SPARK_SUBMIT_OPTS:+$SPARK_SUBMIT_OPTS }\"-Dlog4j2.configurationFile=$base_log4j,$here/conf/log4j2-submit-client.properties\""
  fi
  run_submission "$spark_submit" --master "$master" --properties-file "$props_file" --load-spark-defaults \
    ${driver_java_options[@]+"${driver_java_options[@]}"} --class "$main_class" \
    ${driver_class_path:+--driver-class-path "$driver_class_path"} \
    ${spark_args[@]+"${spark_args[@]}"} "$executor_jar" "${app_args[@]}"
fi

# The driver's heap in the JVM's -Xmx form (heap_form), or an error. Without a distribution this
# JVM is the driver, already started when Spark would read --driver-memory, so the script sets it:
# --driver-memory first (as spark-submit has it), then --conf spark.driver.memory=,
# LAYERSCOPE_DRIVER_MEMORY, the properties file's spark.driver.memory.
java_heap() {
  heap_form "$1" && return 0
  echo "layerscope: the driver's memory '$1' is not a size such as 4g, 512m or 4096 (MiB)" >&2
  exit 2
}
driver_heap="$(java_heap "${heap_arg-${heap_conf-${LAYERSCOPE_DRIVER_MEMORY:-${driver_memory:-4g}}}}")"

# No Spark distribution: Spark's own launcher from the jar, in this JVM (client mode), through
# SparkSubmitMain so that options Spark refuses end as one paragraph with status 2.
# In local mode the jar is already on this JVM's class path: naming the application "spark-internal"
# keeps Spark from registering it as a user jar, which its local executor would copy (400 MB) into
# a temporary directory before the first task.
primary="$executor_jar"
case "$master" in local*) primary=spark-internal ;; esac
# Class-data sharing: the first sweep or layer job after a build records the classes it loaded
# (Spark, Hadoop, Parquet, DJL: tens of thousands) into target/layerscope.jsa when it exits, which
# takes a while once; later runs of any command map them instead of loading and verifying them
# again, which roughly halves Spark's start and the first Parquet write on a busy 2-core machine.
# query loads other classes (Spark SQL's parser, analyser and optimiser, few of which a sweep
# touches): the first query after a build records its own, target/layerscope-query.jsa.
# LAYERSCOPE_CDS=off disables both.
cds_flags=()
cds_record=""
cds_archive="$here/target/layerscope.jsa"
if [ "$command" = query ]; then
  cds_archive="$here/target/layerscope-query.jsa"
fi
# the user's own class-sharing flags (-Xshare:off, an archive of theirs) decide alone: the JVM
# refuses some pairs with the script's
user_cds=0
for w in ${user_java_words[@]+"${user_java_words[@]}"}; do
  if [[ "$w" =~ ^-(Xshare:|XX:SharedArchiveFile=|XX:ArchiveClassesAtExit=|XX:[+-]UseSharedSpaces|XX:[+-]AutoCreateSharedArchive) ]]; then
    user_cds=1
  fi
done
# (/proc where there is one: kill -0 fails for another user's process too)
process_alive() { if [ -d /proc/self ]; then [ -d "/proc/$1" ]; else kill -0 "$1" 2>/dev/null; fi; }
# an archive being recorded by a run whose script was killed (kill -9: its JVM ran on alone) is left
# as target/*.jsa.PID.tmp; once that process is gone it is only a large file
for stale in "$here"/target/layerscope*.jsa.*.tmp; do
  [ -e "$stale" ] || continue
  recorder="${stale%.tmp}"; recorder="${recorder##*.}"
  if [[ "$recorder" =~ ^[0-9]+$ ]] && ! process_alive "$recorder"; then rm -f "$stale"; fi
done
if [ "${LAYERSCOPE_CDS:-on}" != off ] && ((user_cds == 0)); then
  cds_flags=(-Xlog:disable "-Xlog:all=warning,cds*=off:stderr")
  if [ -f "$cds_archive" ] && [ "$cds_archive" -nt "$jar" ]; then
    cds_flags+=("-XX:SharedArchiveFile=$cds_archive")
  elif { [ "$command" = sweep ] || [ "$command" = layer ] || [ "$command" = query ]; } \
      && [ "$deploy_mode" != cluster ] && [ -z "$user_class_path" ] \
      && ! has_word_like '-h|--help|-V|--version' ${app_args[@]+"${app_args[@]}"}; then
    # a real job in this JVM only: an archive of what --help loads, or of a submission whose driver
    # runs on the cluster (Spark's launcher alone), would serve every later run poorly
    cds_record="$cds_archive.$$.tmp"
    cds_flags+=("-XX:ArchiveClassesAtExit=$cds_record")
    echo "layerscope: recording a class-data archive for faster starts (once per build)" >&2
  fi
fi
young_flag="$(young_cap "$driver_heap")"
if [ -n "$user_library_path" ]; then export LD_LIBRARY_PATH="$user_library_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
launch=(java "${module_flags[@]}" "${app_props[@]}" "${jvm_flags[@]}" ${cds_flags[@]+"${cds_flags[@]}"}
  "-Xmx$driver_heap" ${young_flag:+"$young_flag"} ${user_java_words[@]+"${user_java_words[@]}"}
  -cp "$class_path${user_class_path:+:$user_class_path}" io.layerscope.cli.SparkSubmitMain --master "$master" --properties-file "$props_file"
  --class "$main_class" ${spark_args[@]+"${spark_args[@]}"} "$primary" "${app_args[@]}")
if [ -z "$cds_record" ]; then
  run_submission "${launch[@]}"
fi
# The JVM runs as a child here: the archive is moved afterwards.
run_child "${launch[@]}"
# Renamed into place only when complete, so a concurrent run never maps a half-written archive; kept
# only from a run that succeeded (a run that failed early loaded too few classes to be worth mapping).
# (|| true: another run may have taken the file for a dead one's meanwhile; a lost archive is all it costs)
if [ "$status" = 0 ] && [ -s "$cds_record" ]; then mv -f "$cds_record" "$cds_archive" 2>/dev/null || true; else rm -f "$cds_record"; fi
exit "$status"
