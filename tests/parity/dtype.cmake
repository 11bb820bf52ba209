# Exhaustive parity of the f16 / bf16 / f8 conversions with ml_dtypes and
# numpy: dtype_dump writes zerfoo's results, test_dtype_parity.py compares.
add_executable(dtype_dump ${CMAKE_CURRENT_SOURCE_DIR}/parity/dtype_dump.c)
target_compile_options(dtype_dump PRIVATE ${ZF_WARN})
target_link_libraries(dtype_dump PRIVATE zerfoo_static)
add_test(NAME dtype_parity_ml_dtypes
  COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/parity/test_dtype_parity.py $<TARGET_FILE:dtype_dump>)
set_tests_properties(dtype_parity_ml_dtypes PROPERTIES LABELS parity TIMEOUT 300)
