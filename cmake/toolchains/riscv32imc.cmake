# RISC-V rv32imc (ESP32-C3 class: no atomics, no FPU) with Debian's riscv64-unknown-elf-gcc and
# picolibc; Rust target riscv32imc-unknown-none-elf (cmake/lwip_snat.cmake derives it from -march).
# Use: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/riscv32imc.cmake ...
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-march=rv32imc -mabi=ilp32 --specs=picolibc.specs")
set(CMAKE_ASM_FLAGS_INIT "-march=rv32imc -mabi=ilp32")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
