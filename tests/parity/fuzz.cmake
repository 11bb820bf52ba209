# 20 seconds of libFuzzer on the GGUF reader (tests/fuzz/run_fuzz.sh), only
# where clang is installed; the script builds its own instrumented binary.
find_program(ZF_CLANG clang)
if(ZF_CLANG)
  add_test(NAME fuzz_gguf
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/fuzz/run_fuzz.sh 20 ${PROJECT_BINARY_DIR}/fuzz)
  set_tests_properties(fuzz_gguf PROPERTIES LABELS parity TIMEOUT 300
    ENVIRONMENT "CLANG=${ZF_CLANG}")
endif()
