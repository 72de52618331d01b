#ifndef RUNBOOK_CYAML_SHIM_H
#define RUNBOOK_CYAML_SHIM_H
#include <yaml.h>
#endif
