# Prints a variable of the userspace make fragments: make -f scripts/print-var.mk VAR
-include userspace/guests.mk
-include userspace/user.mk
-include userspace/tools.mk
%:
	@echo $($@)
