"""Checkpoint cameras (卡口抓拍): what a plate read is once accepted, and the verdicts it
leads to. Pure: the intake and the plate-read worker move data, these decide."""
