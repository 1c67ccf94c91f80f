# Arm Cortex-M0/M0+ (ARMv6-M, no FPU) with arm-none-eabi-gcc and newlib-nano; Rust target
# thumbv6m-none-eabi (cmake/lwip_snat.cmake derives it from -mcpu).
# Use: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-cortex-m0plus.cmake ...
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m0plus)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m0plus -mthumb -mfloat-abi=soft")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
