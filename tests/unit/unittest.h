/* SPDX-License-Identifier: MIT */
/* unittest.h: the includes cmocka needs, in the order it needs them (tinc's unittest.h). */
#ifndef UPG_TESTS_UNITTEST_H
#define UPG_TESTS_UNITTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#endif
