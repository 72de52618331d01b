// Built-in actions: descriptors (and, later, implementations) by domain.
import RunbookKit
