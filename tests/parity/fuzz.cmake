# libFuzzer on every reader of untrusted files (tests/fuzz/run_fuzz.sh), only
# where clang is installed. fuzz_build compiles the instrumented library once
# (a fixture the targets need); each fuzz_<target> then runs its fuzzer for
# ZF_FUZZ_SECONDS (15 s by default) from the committed seeds.
find_program(ZF_CLANG clang)
set(ZF_FUZZ_SECONDS 15 CACHE STRING "Seconds of libFuzzer per fuzz_<target> test")
if(ZF_CLANG)
  set(_zf_fuzz_dir ${PROJECT_BINARY_DIR}/fuzz)
  add_test(NAME fuzz_build
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/fuzz/run_fuzz.sh all 0 ${_zf_fuzz_dir})
  set_tests_properties(fuzz_build PROPERTIES LABELS parity TIMEOUT 1800
    FIXTURES_SETUP zf_fuzz_build ENVIRONMENT "CLANG=${ZF_CLANG}")
  foreach(target gguf safetensors checkpoint idx llm tokenize)
    add_test(NAME fuzz_${target}
      COMMAND bash ${PROJECT_SOURCE_DIR}/tests/fuzz/run_fuzz.sh ${target} ${ZF_FUZZ_SECONDS} ${_zf_fuzz_dir})
    set_tests_properties(fuzz_${target} PROPERTIES LABELS parity TIMEOUT 600
      FIXTURES_REQUIRED zf_fuzz_build ENVIRONMENT "CLANG=${ZF_CLANG}")
  endforeach()
endif()
