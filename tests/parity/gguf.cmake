# GGUF reader/writer and block-quant parity with the `gguf` Python package
# (gguf-py: GGUFWriter, gguf.quants). Needs python3 with numpy and gguf
# (scripts/bootstrap.sh installs them).
add_executable(gguf_tool ${CMAKE_CURRENT_LIST_DIR}/gguf_tool.c)
target_compile_options(gguf_tool PRIVATE ${ZF_WARN})
target_include_directories(gguf_tool PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(gguf_tool PRIVATE zerfoo_static)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  set(ZF_PYTHON ${Python3_EXECUTABLE})
else()
  set(ZF_PYTHON python3)
endif()
add_test(NAME gguf_parity
  COMMAND ${ZF_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_gguf_parity.py $<TARGET_FILE:gguf_tool>)
set_tests_properties(gguf_parity PROPERTIES LABELS parity TIMEOUT 900)
