/*
 * Versions of the state root's layout (core/state.h), for live updates.
 * Shared with boot.S, which writes them into the image info block.
 *
 * HV_STATE_VERSION is the layout this build writes. Building with
 * -DHV_STATE_VERSION=1 gives the previous layout (the "previous release"
 * image the update tests go back and forth with); HV_STATE_OLDEST is the
 * oldest layout an image imports. Every layout change bumps the version
 * and adds its conversion both ways to core/update_convert.c.
 */
#ifndef CORE_STATE_VERSION_H
#define CORE_STATE_VERSION_H

#include <shyper/version.h>

#ifndef HV_STATE_VERSION
#define HV_STATE_VERSION 4
#endif
#define HV_STATE_OLDEST 1

#ifndef HV_UPDATE_FAULT
#define HV_UPDATE_FAULT 0 /* 1, 2: images built to fail (core/update_switch.c) */
#endif

#if HV_UPDATE_FAULT == 1
#define HV_VERSION_STRING SHYPER_VERSION_STRING "-fault"
#elif HV_UPDATE_FAULT == 2
#define HV_VERSION_STRING SHYPER_VERSION_STRING "-fault-run"
#elif HV_STATE_VERSION == 1
#define HV_VERSION_STRING SHYPER_VERSION_STRING "-s1"
#else
#define HV_VERSION_STRING SHYPER_VERSION_STRING
#endif

#endif
