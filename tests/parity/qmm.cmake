# Bit-exact parity of zf_qmatmul with ggml's CPU mul_mat: ggml_qmm_oracle
# dlopen()s libggml-base/libggml-cpu from the installed llama_cpp package
# (PyPI llama-cpp-python, scripts/bootstrap.sh) and compares every output bit
# for many shapes, seeds, quant types, kernel sets and thread counts. Exits
# 77 (skipped) when llama_cpp is not installed.
add_executable(ggml_qmm_oracle ${CMAKE_CURRENT_LIST_DIR}/ggml_qmm_oracle.c)
target_compile_options(ggml_qmm_oracle PRIVATE ${ZF_WARN})
target_include_directories(ggml_qmm_oracle PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(ggml_qmm_oracle PRIVATE zerfoo_static ${CMAKE_DL_LIBS})
add_test(NAME qmm_ggml_parity COMMAND ggml_qmm_oracle)
set_tests_properties(qmm_ggml_parity PROPERTIES LABELS parity TIMEOUT 900 SKIP_RETURN_CODE 77)
