from services.common.process import main
from services.notify.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
