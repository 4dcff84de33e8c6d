include $(sort $(wildcard $(BR2_EXTERNAL_LIGHTNVR_PATH)/package/*/*.mk))
